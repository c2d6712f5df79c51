/**
 * When an answer first showed signs of life, in milliseconds from the question (the first of any attempt):
 * Claude's first thinking and its first text. Cheap enough to mark on every streamed token.
 */
export class AnswerTimeline {
  private firstThinkingMs: number | undefined;
  private firstTextMs: number | undefined;

  constructor(private readonly askedAt: number = performance.now()) {}

  thinking(): void {
    this.firstThinkingMs ??= this.elapsed();
  }

  text(): void {
    this.firstTextMs ??= this.elapsed();
  }

  /** Log fields: `first_thinking_ms` and `first_text_ms`, each absent if it never happened. */
  get fields(): { first_thinking_ms?: number; first_text_ms?: number } {
    return { first_thinking_ms: this.firstThinkingMs, first_text_ms: this.firstTextMs };
  }

  private elapsed(): number {
    return Math.round(performance.now() - this.askedAt);
  }
}
