/**
 * Context assembly under hard token budgets: account data, the last interactions (older ones
 * summarised), and the top KB passages. Budgets are enforced with the offline estimate, which
 * errs on the high side, so the real count never exceeds them. Every cut is recorded.
 */
import type { BudgetLine } from '../record.ts';
import { estimateTokens } from '../tokens.ts';
import type { CustomerContext, RetrievedPassage } from '../types.ts';

export interface Budgets {
  accountTokens: number;
  interactionsTokens: number;
  /** Verbatim interactions kept; older ones are summarised. */
  recentInteractions: number;
  passageTokens: number;
  maxPassages: number;
}

export const DEFAULT_BUDGETS: Budgets = {
  accountTokens: 500,
  interactionsTokens: 600,
  recentInteractions: 3,
  passageTokens: 800,
  maxPassages: 3,
};

export interface AssembledContext {
  customerContextText: string;
  passages: RetrievedPassage[];
  lines: BudgetLine[];
  totalTokens: number;
}

/** Cuts text to at most `budget` estimated tokens, at a sentence or word boundary where possible. */
export function truncateToTokens(text: string, budget: number): { text: string; truncated: boolean } {
  if (estimateTokens(text) <= budget) return { text, truncated: false };
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (estimateTokens(`${text.slice(0, middle)} …`) <= budget) low = middle;
    else high = middle - 1;
  }
  let cut = text.slice(0, low);
  const sentenceEnd = Math.max(cut.lastIndexOf('. '), cut.lastIndexOf('\n'));
  if (sentenceEnd > cut.length * 0.6) cut = cut.slice(0, sentenceEnd + 1);
  else if (cut.lastIndexOf(' ') > cut.length * 0.8) cut = cut.slice(0, cut.lastIndexOf(' '));
  return { text: `${cut.trimEnd()} …`, truncated: true };
}

function firstSentence(text: string): string {
  const match = /^(.{10,200}?[.!?])(\s|$)/s.exec(text.trim());
  return (match?.[1] ?? text.trim().slice(0, 160)).replace(/\s+/g, ' ');
}

function renderAccount(customer: CustomerContext): string {
  const lines = [
    customer.name ? `Name: ${customer.name}` : undefined,
    customer.plan ? `Plan: ${customer.plan}` : undefined,
    customer.accountAgeDays !== undefined ? `Account age: ${customer.accountAgeDays} days` : undefined,
    customer.ticketsThisMonth !== undefined ? `Tickets this month: ${customer.ticketsThisMonth}` : undefined,
    customer.priorTicketsSameIssue !== undefined && customer.priorTicketsSameIssue > 0
      ? `Earlier tickets on this same issue: ${customer.priorTicketsSameIssue}`
      : undefined,
    customer.lastInteractionSummary ? `Last interaction: ${customer.lastInteractionSummary}` : undefined,
    customer.tone ? `Preferred tone: ${customer.tone}` : undefined,
  ];
  return lines.filter((line): line is string => line !== undefined).join('\n');
}

export function assembleContext(
  customer: CustomerContext | undefined,
  passages: readonly RetrievedPassage[],
  budgets: Budgets = DEFAULT_BUDGETS,
): AssembledContext {
  const lines: BudgetLine[] = [];
  const sections: string[] = [];

  const account = renderAccount(customer ?? {});
  const accountCut = truncateToTokens(account, budgets.accountTokens);
  lines.push({
    source: 'account',
    budgetTokens: budgets.accountTokens,
    usedTokens: account === '' ? 0 : estimateTokens(accountCut.text),
    cut: accountCut.truncated ? ['account data shortened'] : [],
  });
  if (account !== '') sections.push(`Account:\n${accountCut.text}`);

  const interactions = customer?.interactions ?? [];
  const recent = interactions.slice(-budgets.recentInteractions);
  const older = interactions.slice(0, Math.max(0, interactions.length - budgets.recentInteractions));
  const interactionCuts: string[] = [];
  const parts: string[] = [];
  if (older.length > 0) {
    parts.push(
      `Earlier (${older.length}, summarised): ${older.map((item) => `${item.author}: ${firstSentence(item.text)}`).join(' | ')}`,
    );
    interactionCuts.push(`${older.length} older interaction(s) summarised to their first sentence`);
  }
  const perInteraction = Math.max(
    60,
    Math.floor(budgets.interactionsTokens / Math.max(1, recent.length + (older.length > 0 ? 1 : 0))),
  );
  for (const item of recent) {
    const cut = truncateToTokens(item.text, perInteraction);
    if (cut.truncated) interactionCuts.push(`an interaction from ${item.at ?? item.author} shortened`);
    parts.push(`${item.author}${item.at ? ` (${item.at})` : ''}: ${cut.text}`);
  }
  const interactionsText = truncateToTokens(parts.join('\n'), budgets.interactionsTokens);
  if (interactionsText.truncated) interactionCuts.push('interactions shortened to the budget');
  lines.push({
    source: 'interactions',
    budgetTokens: budgets.interactionsTokens,
    usedTokens: parts.length === 0 ? 0 : estimateTokens(interactionsText.text),
    cut: interactionCuts,
  });
  if (parts.length > 0) sections.push(`Recent interactions:\n${interactionsText.text}`);

  const kept: RetrievedPassage[] = [];
  for (const [index, passage] of passages.entries()) {
    if (index >= budgets.maxPassages) {
      lines.push({
        source: `kb:${passage.articleId}`,
        budgetTokens: 0,
        usedTokens: 0,
        cut: ['beyond the top passages'],
      });
      continue;
    }
    const cut = truncateToTokens(passage.text, budgets.passageTokens);
    kept.push(cut.truncated ? { ...passage, text: cut.text } : passage);
    lines.push({
      source: `kb:${passage.articleId}`,
      budgetTokens: budgets.passageTokens,
      usedTokens: estimateTokens(cut.text),
      cut: cut.truncated ? ['passage shortened to the budget'] : [],
    });
  }

  const customerContextText = sections.join('\n\n');
  return {
    customerContextText,
    passages: kept,
    lines,
    totalTokens: lines.reduce((sum, line) => sum + line.usedTokens, 0),
  };
}
