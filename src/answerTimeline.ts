/** What a reader sees of a reply, in order: the placeholder (or stream) up, Claude's first text, the final message. */
export type VisibleStage = 'progress' | 'text' | 'final';

/**
 * When an answer first showed signs of life, in milliseconds from the question (the first of any attempt):
 * Claude's first thinking and its first text, and when Slack accepted each visible stage of the reply.
 * Cheap enough to mark on every streamed token.
 */
export class AnswerTimeline {
  private firstThinkingMs: number | undefined;
  private firstTextMs: number | undefined;
  private readonly visibleAt: Partial<Record<VisibleStage, number>> = {};

  constructor(private readonly askedAt: number = performance.now()) {}

  thinking(): void {
    this.firstThinkingMs ??= this.elapsed();
  }

  text(): void {
    this.firstTextMs ??= this.elapsed();
  }

  /** Slack accepted the reply's `stage` (only the first time counts). */
  visible(stage: VisibleStage): void {
    this.visibleAt[stage] ??= this.elapsed();
  }

  /** Milliseconds from the question to each stage Slack accepted; a stage never reached is absent. */
  get visibleMs(): Readonly<Partial<Record<VisibleStage, number>>> {
    return this.visibleAt;
  }

  /** Log fields: `first_thinking_ms` and `first_text_ms`, each absent if it never happened. */
  get fields(): { first_thinking_ms?: number; first_text_ms?: number } {
    return { first_thinking_ms: this.firstThinkingMs, first_text_ms: this.firstTextMs };
  }

  private elapsed(): number {
    return Math.round(performance.now() - this.askedAt);
  }
}
