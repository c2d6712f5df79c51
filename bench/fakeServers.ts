// The benchmark's fake Slack and Anthropic servers, in a process of their own so that their work (and the
// delivery of events) never counts against the bot's CPU, memory or event-loop delay. Driven over IPC.
import { FakeAnthropic, type StreamScript } from '../test/fakes/fakeAnthropic.js';
import { FakeSlack } from '../test/fakes/fakeSlack.js';
import { preciseNow } from '../test/fakes/httpUtil.js';
import { deliverEvent, mentionEvent } from '../test/fakes/slackRequests.js';

/** A command from the benchmark and what the fakes answer. */
export type FakesCommand =
  | { cmd: 'configure'; slackLatencyMs: number; script: StreamScript; rateLimits?: Record<string, { perMinute: number; burst: number }> }
  | { cmd: 'deliver'; botUrl: string; secret: string; questions: { channel: string; text: string }[]; spacingMs?: number }
  | { cmd: 'count' }
  | { cmd: 'collect' };

/**
 * One Slack call as the benchmark needs it: when it arrived, what it did, and a fingerprint of its text (for a
 * stream call, the Markdown it appended).
 */
export interface SlackCallSummary {
  method: string;
  at: number;
  status: number;
  ok: boolean;
  channel: string;
  ts: string;
  threadTs?: string;
  words: number;
  text: string;
}

export interface ClaudeRequestSummary {
  question: string;
  at: number;
  chunkTimes: number[];
  /** When each thinking delta was written (or would have been, with thinking display omitted). */
  thinkingTimes: number[];
}

export interface Delivery {
  channel: string;
  question: string;
  ts: string;
  sentAt: number;
}

/** Deliveries in flight at once. */
const MAX_CONNECTIONS = 100;

const slack = await FakeSlack.start();
const claude = await FakeAnthropic.start();

async function handle(command: FakesCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'configure':
      slack.latencyMs = command.slackLatencyMs;
      claude.defaultScript = command.script;
      for (const [method, limit] of Object.entries(command.rateLimits ?? {})) slack.rateLimit(method, limit);
      return {};
    case 'deliver': {
      // Slack keeps a bounded number of connections open to an app; 1,000 at once would overflow the
      // listen backlog and measure the kernel, not the bot.
      const pending = command.questions.map((question, i) => ({ ...question, i }));
      const deliveries: Delivery[] = [];
      const worker = async () => {
        for (let next = pending.shift(); next; next = pending.shift()) {
          const { channel, text, i } = next;
          if (command.spacingMs) await new Promise((resolve) => setTimeout(resolve, Math.max(0, i * command.spacingMs! - (preciseNow() - started))));
          const event = mentionEvent({ channel, user: `U${channel}`, text: `<@UBOT> ${text}` });
          const sentAt = preciseNow();
          const response = await deliverEvent(command.botUrl, command.secret, event);
          if (response.status !== 200) throw new Error(`bot answered ${response.status}`);
          deliveries[i] = { channel, question: text, ts: event.ts, sentAt };
        }
      };
      const started = preciseNow();
      await Promise.all(Array.from({ length: MAX_CONNECTIONS }, worker));
      return deliveries;
    }
    case 'count':
      return claude.requests.length;
    case 'collect':
      return {
        calls: slack.calls.map((call): SlackCallSummary => {
          const text = call.params.chunks === undefined ? String(call.params.text ?? '') : streamedText(call.params.chunks);
          const opens = call.method === 'chat.postMessage' || call.method === 'chat.startStream';
          const ts = String(opens ? (call.response.ts ?? '') : call.params.ts);
          return {
            method: call.method,
            at: call.at,
            status: call.status,
            ok: call.response.ok === true,
            channel: String(call.params.channel),
            ts,
            threadTs: call.params.thread_ts === undefined ? undefined : String(call.params.thread_ts),
            words: text.split(/\s+/).filter((word) => /^w\d+$/.test(word)).length,
            text,
          };
        }),
        requests: claude.requests.map(
          (request): ClaudeRequestSummary => ({
            question: String(request.body.messages.at(-1).content),
            at: request.at,
            chunkTimes: request.chunkTimes,
            thinkingTimes: request.thinkingTimes,
          }),
        ),
      };
  }
}

/** The Markdown of a stream call's `markdown_text` chunks. */
function streamedText(chunks: unknown): string {
  if (!Array.isArray(chunks)) return '';
  return chunks.map((chunk: { type?: unknown; text?: unknown }) => (chunk.type === 'markdown_text' ? String(chunk.text) : '')).join('');
}

process.on('message', (message: { id: number } & FakesCommand) => {
  handle(message).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) => process.send!({ id: message.id, error: String(error) }),
  );
});
process.on('disconnect', () => {
  void Promise.all([slack.close(), claude.close()]).then(() => process.exit(0));
});
process.send!({ ready: true, slackUrl: slack.apiUrl, claudeUrl: claude.baseUrl });
