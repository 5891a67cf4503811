/**
 * Write-back: what triage decided, turned into one Zendesk ticket update (comment, tags, group,
 * priority, status and custom fields in a single PUT, so it lands entirely or not at all), and
 * the exactly-once protocol around it.
 *
 * Exactly once per ticket event: the comment carries a marker naming the event; before writing we
 * look for it in the ticket's comments, and the update is sent with safe_update (the ticket's
 * updated_at as stamp). A concurrent writer, a human reply or our own earlier write that the store
 * never recorded (crash between "written" and "recorded") all surface as a marker or a CONFLICT,
 * after which the caller re-reads, re-guards and re-checks instead of writing twice.
 */
import type { CustomFieldValue, HelpdeskTicket, TicketUpdate } from '../../integration/helpdesk-port.ts';
import type { TenantSettings } from '../tenants/settings.ts';
import type { Citation, TicketRecord } from '../triage/record.ts';
import { MARKER_PREFIX, markerText } from './guard.ts';

export interface ComposedWrite {
  kind: 'public_reply' | 'internal_note' | 'escalation_note';
  update: TicketUpdate;
}

/** Zendesk tags: lowercase, no spaces; anything else becomes '_'. */
export function toTag(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_:-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 80);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function citationLine(citation: Citation): string {
  const stale = citation.stale ? ' (may be out of date)' : '';
  return citation.url ? `- ${citation.title}: ${citation.url}${stale}` : `- ${citation.title}${stale}`;
}

function paragraphsToHtml(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${escapeHtml(paragraph).replace(/\n/g, '<br>')}</p>`)
    .join('');
}

/** The customer-facing reply: the draft, then the articles it rests on as links. */
function publicReplyHtml(draft: string, citations: Citation[], eventId: string): string {
  const links = citations
    .filter((citation) => citation.url !== undefined)
    .map((citation) => `<li><a href="${escapeHtml(citation.url!)}">${escapeHtml(citation.title)}</a></li>`)
    .join('');
  const sources = links === '' ? '' : `<p>Related articles:</p><ul>${links}</ul>`;
  // Hidden from the customer; the per-event tag below is the fallback should Zendesk strip comments.
  return `${paragraphsToHtml(draft)}${sources}<!-- ${MARKER_PREFIX}${eventId} -->`;
}

function internalDraftNote(record: TicketRecord, eventId: string): string {
  const lines = [
    'AI draft reply (not sent to the customer: review, edit and send it yourself)',
    '',
    record.draft?.text ?? '(no draft)',
    '',
  ];
  if (record.citations.length > 0) lines.push('Sources:', ...record.citations.map(citationLine), '');
  lines.push(
    `Intent: ${record.classification.intent} (confidence ${record.classification.confidence.toFixed(2)})`,
    ...(record.tierReasons.length > 0
      ? ['Why a draft and not a reply:', ...record.tierReasons.map((r) => `- ${r}`)]
      : []),
    '',
    markerText(eventId),
  );
  return lines.join('\n');
}

function escalationNote(record: TicketRecord, eventId: string): string {
  const handoff = record.escalation;
  const lines = [
    `AI triage: escalated (tier ${record.tier}) to ${handoff?.team ?? 'a human'}, priority ${record.priority}`,
    '',
  ];
  if (handoff) {
    lines.push(
      'Summary:',
      handoff.summary,
      '',
      'What was tried:',
      ...(handoff.whatWasTried.length > 0 ? handoff.whatWasTried.map((item) => `- ${item}`) : ['- nothing yet']),
      '',
      'Why it failed:',
      ...(handoff.whyItFailed.length > 0 ? handoff.whyItFailed.map((item) => `- ${item}`) : ['- (not recorded)']),
      '',
      `Suggested action: ${handoff.suggestedAction}`,
      '',
    );
  }
  if (record.draft) lines.push('Draft (not sent):', record.draft.text, '');
  if (record.citations.length > 0) lines.push('Sources:', ...record.citations.map(citationLine), '');
  lines.push(`Intent: ${record.classification.intent} (confidence ${record.classification.confidence.toFixed(2)})`);
  if (record.tierReasons.length > 0) lines.push('Reasons:', ...record.tierReasons.map((reason) => `- ${reason}`));
  lines.push('', markerText(eventId));
  return lines.join('\n');
}

function customFields(record: TicketRecord, settings: TenantSettings): CustomFieldValue[] {
  const ids = settings.customFieldIds;
  const fields: CustomFieldValue[] = [];
  if (ids.intent !== undefined) fields.push({ id: String(ids.intent), value: record.classification.intent });
  if (ids.confidence !== undefined) {
    fields.push({ id: String(ids.confidence), value: Math.round(record.classification.confidence * 1000) / 1000 });
  }
  if (ids.tier !== undefined) fields.push({ id: String(ids.tier), value: record.tier });
  return fields;
}

/** A per-event tag: a second, HTML-independent sign that a public reply for this event exists. */
export function eventTag(eventId: string): string {
  return toTag(`ai_evt_${eventId.replace(':', '_')}`);
}

/**
 * The single update for a ticket event. `ticket` is the copy just read: tags are sent as the union
 * with its tags (safe_update guarantees nobody changed them since).
 */
export function composeWrite(
  record: TicketRecord,
  ticket: Pick<HelpdeskTicket, 'tags' | 'updatedAt'>,
  settings: TenantSettings,
  eventId: string,
): ComposedWrite {
  const intentTag = toTag(`ai_intent_${record.classification.intent}`);
  const fields = customFields(record, settings);
  const withTags = (tags: string[]) => [...new Set([...ticket.tags, ...tags])];
  const common = {
    ...(fields.length > 0 ? { customFields: fields } : {}),
    ifUnmodifiedSince: ticket.updatedAt,
  };

  if (record.action === 'public_reply' && record.draft !== null) {
    return {
      kind: 'public_reply',
      update: {
        ...common,
        comment: { body: publicReplyHtml(record.draft.text, record.citations, eventId), public: true, html: true },
        status: settings.tier0Status,
        tags: withTags(['ai_tier0', intentTag, eventTag(eventId)]),
      },
    };
  }
  if (record.action === 'escalate') {
    const team = record.escalation?.team;
    const groupId = team === undefined ? undefined : settings.teamGroupIds[team];
    return {
      kind: 'escalation_note',
      update: {
        ...common,
        comment: { body: escalationNote(record, eventId), public: false },
        priority: record.escalation?.priority ?? record.priority,
        ...(groupId === undefined ? {} : { groupId: String(groupId) }),
        tags: withTags(['ai_escalated', `ai_tier${record.tier}`, intentTag]),
      },
    };
  }
  return {
    kind: 'internal_note',
    update: {
      ...common,
      comment: { body: internalDraftNote(record, eventId), public: false },
      tags: withTags([`ai_tier${record.tier}`, intentTag]),
    },
  };
}
