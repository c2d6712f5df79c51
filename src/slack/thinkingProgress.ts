import type { ThinkingDisplay } from '../config.js';
import { copy } from '../copy.js';
import { inertInline } from './inertText.js';

/** Longest thinking sentence shown, in characters: one line on a phone. */
const SENTENCE_MAX_CHARS = 120;
/** A sentence (or a heading) ends at terminal punctuation followed by space, or at a line break. */
const SENTENCE_BREAK = /(?<=[.!?…]["'”’)\]]*)\s+|\n+/;
const ENDS_SENTENCE = /(?:[.!?…]["'”’)\]]*|\n)\s*$/;
/**
 * Only this much of the thinking's end is searched: it runs on every thinking delta, and a whole-summary
 * search would make a long think quadratic; the sentence shown is cut to SENTENCE_MAX_CHARS anyway.
 */
const TAIL_CHARS = 4 * SENTENCE_MAX_CHARS;

/**
 * The latest complete sentence of Claude's summarised thinking, as inert plain text (see inertInline), or
 * the sentence being written while no other ends in the last TAIL_CHARS; '' when there is none.
 */
export function latestSentence(thinking: string): string {
  const tail = thinking.slice(-TAIL_CHARS);
  const pieces = tail.split(SENTENCE_BREAK).filter((piece) => piece.trim());
  // A cut tail starts inside a sentence: that fragment is not a sentence of its own.
  if (tail.length < thinking.length && pieces.length > 1) pieces.shift();
  const complete = ENDS_SENTENCE.test(tail) || pieces.length === 1 ? pieces : pieces.slice(0, -1);
  for (const piece of complete.reverse()) {
    const sentence = inertInline(piece, SENTENCE_MAX_CHARS);
    if (sentence) return sentence;
  }
  return '';
}

/**
 * What a reply shows while Claude thinks before its first text: with `summary` the latest sentence of the
 * summarised thinking (the clock until there is one), with `status` the seconds since `startedAt`, with
 * `off` nothing. Lines go to `show` (the edit scheduler paces them); the clock feeds it once per
 * `intervalMs` (EDIT_INTERVAL_MS), so it never asks for more than an edit can show. `stop` is idempotent.
 */
export class ThinkingProgress {
  private sentence = '';
  private clock: NodeJS.Timeout | undefined;

  constructor(
    private readonly display: ThinkingDisplay,
    private readonly intervalMs: number,
    private readonly startedAt: number,
    /** Gets the line to show (Markdown) and the latest sentence alone ('' while there is none). */
    private readonly show: (markdown: string, sentence: string) => void,
  ) {}

  /** Claude's summarised thinking so far ('' when a thinking block starts). */
  update(thinkingSoFar: string): void {
    if (this.display === 'off') return;
    if (this.display === 'summary') this.sentence = latestSentence(thinkingSoFar) || this.sentence;
    this.showLine();
    if (!this.clock) {
      this.clock = setInterval(() => this.showLine(), this.intervalMs);
      // A forgotten clock must not keep the process alive; stop() is still owed on every exit path.
      this.clock.unref();
    }
  }

  /** Stops the clock and forgets the sentence: what comes next is the answer or a notice. */
  stop(): void {
    clearInterval(this.clock);
    this.clock = undefined;
    this.sentence = '';
  }

  private showLine(): void {
    const seconds = Math.round((Date.now() - this.startedAt) / 1000);
    this.show(this.sentence ? copy.thinkingSentence(this.sentence) : copy.thinkingFor(seconds), this.sentence);
  }
}
