import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { VisibleStage, AnswerTimeline } from '../answerTimeline.js';
import type { AnswerUsage, ClaudeFailureKind } from '../claude/claudeStream.js';
import { costUsd, priceOf, type ModelPrice, type PriceTable } from '../claude/prices.js';
import type { AnswerOutcome, Prompt } from '../conversation.js';
import type { Logger } from '../logger.js';

/** How one Slack Web API request ended: `ok`, `ratelimited` (HTTP 429), or `error` (ok:false, other HTTP status, no answer). */
export type SlackCallResult = 'ok' | 'ratelimited' | 'error';

/** What the bot is doing right now, read at scrape time. */
export interface Load {
  /** Answers holding a slot under MAX_CONCURRENT_ANSWERS (their Claude stream running or about to). */
  answersInFlight: number;
  /** Questions heard (placeholder posted or queued) that wait for their thread, their user's cap or a slot. */
  questionsWaiting: number;
}

export interface BotMetricsOptions {
  /** CLAUDE_MODEL: the `model` label of token and cost series, and the price looked up. */
  model: string;
  /** The built-in prices with CLAUDE_PRICES over them (priceTable). */
  prices: PriceTable;
  /** Read at each scrape; never called before the bot has started. */
  load: () => Load;
  logger: Logger;
}

const PREFIX = 'slackbot_';

/**
 * Seconds from a question to a visible stage: a placeholder takes well under a second, a long answer's final
 * minutes (Claude's first token may wait CLAUDE_FIRST_TOKEN_TIMEOUT_MS, 60 s by default, and answers stream for longer).
 */
const VISIBLE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

/** The histogram name and help of each visible stage (AnswerTimeline). */
const STAGES: Record<VisibleStage, { name: string; help: string }> = {
  progress: { name: 'time_to_first_progress_seconds', help: 'Seconds from the question reaching the bot to Slack accepting its placeholder or native stream start' },
  text: { name: 'time_to_first_text_seconds', help: "Seconds from the question reaching the bot to Slack accepting the first message showing Claude's text" },
  final: { name: 'time_to_final_seconds', help: "Seconds from the question reaching the bot to Slack accepting the answer's final message" },
};

let processRegistry: Registry | undefined;

/**
 * Node's process metrics (event-loop lag, heap, RSS, GC…) in a registry of their own, collected once per
 * process: they describe the process, not a bot, and each collectDefaultMetrics call starts an event-loop
 * monitor and a GC observer that nothing can stop, so one per bot would pile up where tests start many.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * One bot's Prometheus metrics (https://prometheus.io/docs/practices/naming/), in its own registry (never
 * prom-client's global one, so several bots in one process do not clash) merged with the process metrics.
 * Label values are bounded: surfaces, outcomes, kinds, Web API method names, the team id and CLAUDE_MODEL;
 * never a channel, a user or any text.
 */
export class BotMetrics {
  /** What `/metrics` serves (Prometheus text format, `registry.contentType`). */
  readonly registry: Registry;
  private readonly answers: Counter<'surface' | 'outcome' | 'team'>;
  private readonly visible: Record<VisibleStage, Histogram<'surface'>>;
  private readonly claudeErrors: Counter<'kind'>;
  private readonly slackCalls: Counter<'method' | 'result'>;
  private readonly tokens: Counter<'type' | 'model'>;
  /** Absent when CLAUDE_MODEL has no price: no cost series rather than a wrong one. */
  private readonly cost: { counter: Counter<'model'>; price: ModelPrice } | undefined;
  private readonly feedback: Counter<'value' | 'team'>;
  private readonly model: string;

  constructor({ model, prices, load, logger }: BotMetricsOptions) {
    const own = new Registry();
    const registers = [own];
    this.model = model;
    const price = priceOf(prices, model);
    this.answers = new Counter({
      name: `${PREFIX}answers_total`,
      help: 'Answers ended, by surface (mention, dm, command, resumed), outcome and team id',
      labelNames: ['surface', 'outcome', 'team'],
      registers,
    });
    const histogram = ({ name, help }: { name: string; help: string }) =>
      new Histogram({ name: PREFIX + name, help, labelNames: ['surface'], buckets: VISIBLE_BUCKETS, registers });
    this.visible = { progress: histogram(STAGES.progress), text: histogram(STAGES.text), final: histogram(STAGES.final) };
    this.claudeErrors = new Counter({
      name: `${PREFIX}claude_errors_total`,
      help: 'Failed Claude attempts by kind, retried ones included (a user Stop or a shutdown is not counted)',
      labelNames: ['kind'],
      registers,
    });
    this.slackCalls = new Counter({
      name: `${PREFIX}slack_api_calls_total`,
      help: 'Slack Web API HTTP requests by method and result (ok; ratelimited = HTTP 429; error), WebClient retries included',
      labelNames: ['method', 'result'],
      registers,
    });
    this.tokens = new Counter({
      name: `${PREFIX}claude_tokens_total`,
      help: 'Tokens Claude reported, by type (input, cache_creation, cache_read, output, thinking: a share of output) and model',
      labelNames: ['type', 'model'],
      registers,
    });
    if (price) {
      const counter = new Counter({
        name: `${PREFIX}claude_cost_usd_total`,
        help: 'Estimated cost in USD at list prices (built-in table, CLAUDE_PRICES over it), by model',
        labelNames: ['model'],
        registers,
      });
      this.cost = { counter, price };
    } else {
      logger.warn({ model }, 'no price for CLAUDE_MODEL: slackbot_claude_cost_usd_total is not reported (add the model to CLAUDE_PRICES)');
    }
    this.feedback = new Counter({
      name: `${PREFIX}feedback_total`,
      help: 'Feedback button clicks by value (positive, negative) and team id',
      labelNames: ['value', 'team'],
      registers,
    });
    new Gauge({
      name: `${PREFIX}answers_in_flight`,
      help: 'Answers holding a slot under MAX_CONCURRENT_ANSWERS',
      registers,
      collect() {
        this.set(load().answersInFlight);
      },
    });
    new Gauge({
      name: `${PREFIX}questions_waiting`,
      help: "Questions waiting for their thread's earlier answer, their user's USER_MAX_CONCURRENT or a MAX_CONCURRENT_ANSWERS slot",
      registers,
      collect() {
        this.set(load().questionsWaiting);
      },
    });
    this.registry = Registry.merge([processMetrics(), own]);
  }

  /** An answer ended with `outcome`: counts it and observes how soon each stage it reached was visible. */
  answered({ source, teamId }: Pick<Prompt, 'source' | 'teamId'>, outcome: AnswerOutcome, timeline: AnswerTimeline): void {
    this.answers.inc({ surface: source, outcome, team: teamId });
    for (const [stage, ms] of Object.entries(timeline.visibleMs) as [VisibleStage, number][]) this.visible[stage].observe({ surface: source }, ms / 1000);
  }

  /** A Claude attempt failed (before or during its stream). */
  claudeFailed(kind: ClaudeFailureKind): void {
    this.claudeErrors.inc({ kind });
  }

  /** Claude reported `usage` for an attempt: tokens by type and, when the model has a price, its estimated cost. */
  claudeUsed(usage: AnswerUsage): void {
    const model = this.model;
    this.tokens.inc({ type: 'input', model }, usage.inputTokens);
    this.tokens.inc({ type: 'cache_creation', model }, usage.cacheCreationInputTokens);
    this.tokens.inc({ type: 'cache_read', model }, usage.cacheReadInputTokens);
    this.tokens.inc({ type: 'output', model }, usage.outputTokens);
    this.tokens.inc({ type: 'thinking', model }, usage.thinkingTokens);
    this.cost?.counter.inc({ model }, costUsd(this.cost.price, usage));
  }

  /** A Slack Web API request (`method` as in its URL, e.g. `chat.update`) ended with `result`. */
  slackCalled(method: string, result: SlackCallResult): void {
    this.slackCalls.inc({ method, result });
  }

  /** A feedback button was clicked. */
  feedbackClicked(value: string, team: string | undefined): void {
    this.feedback.inc({ value, team: team ?? '' });
  }
}
