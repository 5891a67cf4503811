/**
 * The benchmark's ticket set: the shipped sample tickets (samples/tickets.jsonl, our own text)
 * repeated with deterministic variation — greeting, sign-off, plan, account age and an earlier
 * conversation built from other sample tickets — so 500 tickets carry realistic, varied context.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { CustomerContext } from '../../server/triage/types.ts';
import { between, pick, seededRandom } from '../lib/random.ts';

export const SAMPLE_TICKETS_PATH = fileURLToPath(new URL('../../samples/tickets.jsonl', import.meta.url));

const sampleSchema = z.object({
  id: z.string(),
  subject: z.string().optional(),
  body: z.string().min(1),
  expected_intent: z.string().optional(),
  customer: z
    .object({
      name: z.string().optional(),
      plan: z.string().optional(),
      tone: z.enum(['formal', 'casual']).optional(),
      priorTicketsSameIssue: z.number().int().min(0).optional(),
    })
    .passthrough()
    .optional(),
});
type Sample = z.infer<typeof sampleSchema>;

export interface BenchTicket {
  id: string;
  subject?: string;
  body: string;
  expectedIntent?: string;
  customer: CustomerContext;
}

export function readSampleTickets(path = SAMPLE_TICKETS_PATH): Sample[] {
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const parsed = sampleSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${path} line ${index + 1}: ${parsed.error.issues[0]?.message}`);
      return parsed.data;
    });
}

const GREETINGS = ['', 'Hello,\n\n', 'Hi there,\n\n', 'Good morning,\n\n', 'Hi team,\n\n'];
const SIGN_OFFS = ['', '\n\nThanks', '\n\nBest regards', '\n\nThank you in advance', '\n\nCheers'];
const PLANS = ['Free', 'Personal', 'Team', 'Business', 'Enterprise'];
const AGENT_REPLIES = [
  'Thanks for reaching out. Could you tell us which browser and app version you are using?',
  'I have passed this on to the team that owns it; we will update you here as soon as we know more.',
  'Could you send a screenshot of the message you see? It helps us find the cause faster.',
  'The steps in our help center article should sort this out. Let us know if anything is unclear.',
  'Thanks for your patience. We looked into your account and everything appears to be in order on our side.',
];

/** `count` tickets; the first 66 are the samples as shipped, later rounds vary them. */
export function benchTickets(count: number, seed = 500): BenchTicket[] {
  const samples = readSampleTickets();
  const random = seededRandom(seed);
  const tickets: BenchTicket[] = [];
  for (let index = 0; index < count; index += 1) {
    const sample = samples[index % samples.length] as Sample;
    const round = Math.floor(index / samples.length);
    const name = sample.customer?.name ?? 'Alex Doe';
    const firstName = name.split(' ')[0] ?? name;
    const greeting = round === 0 ? '' : pick(GREETINGS, random);
    const signOff = round === 0 ? '' : pick(SIGN_OFFS, random);
    const body = `${greeting}${sample.body}${signOff === '' ? '' : `${signOff},\n${firstName}`}`;
    const customer: CustomerContext = {
      name,
      plan: round === 0 ? (sample.customer?.plan ?? 'Team') : pick(PLANS, random),
      ...(sample.customer?.tone ? { tone: sample.customer.tone } : {}),
      ...(sample.customer?.priorTicketsSameIssue === undefined
        ? {}
        : { priorTicketsSameIssue: sample.customer.priorTicketsSameIssue }),
      accountAgeDays: between(3, 2_000, random),
      ticketsThisMonth: between(0, 6, random),
    };
    const earlier = round === 0 ? 0 : between(0, 8, random);
    if (earlier > 0) customer.interactions = conversation(samples, earlier, index, random);
    tickets.push({
      id: `bench-${String(index + 1).padStart(4, '0')}`,
      ...(sample.subject ? { subject: sample.subject } : {}),
      body,
      ...(sample.expected_intent ? { expectedIntent: sample.expected_intent } : {}),
      customer,
    });
  }
  return tickets;
}

/** Earlier messages, oldest first: customer messages taken from other samples, agent replies from templates. */
function conversation(
  samples: Sample[],
  length: number,
  index: number,
  random: () => number,
): NonNullable<CustomerContext['interactions']> {
  const start = Date.UTC(2026, 0, 1) + index * 3_600_000;
  return Array.from({ length }, (_, position) => ({
    author: position % 2 === 0 ? ('customer' as const) : ('agent' as const),
    text: position % 2 === 0 ? pick(samples, random).body : pick(AGENT_REPLIES, random),
    at: new Date(start + position * 86_400_000).toISOString(),
  }));
}
