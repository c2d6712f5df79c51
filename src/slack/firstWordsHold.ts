/** What a held post carries: the newest content the answer produced while the post waited. */
export interface HeldContent {
  markdown: string;
  final: boolean;
  /** Only a line saying Claude is thinking (THINKING_DISPLAY), not the answer. */
  thinking: boolean;
}

/**
 * A reply's post held back for Claude's first words while the workspace's edit budget is short (DESIGN.md §3
 * "Placeholder"): it keeps the newest content offered and is `ready` `graceMs` after the first arrives (at once
 * for a final), so an answer that ends that soon is posted once, final; or once `maxMs` have passed, whichever
 * is first. `take` ends it.
 */
export class FirstWordsHold {
  private content: HeldContent | undefined;
  private ended = false;
  private arrive!: () => void;
  /** Resolves once the post should go out: content to carry, or the hold's time is up. */
  readonly ready: Promise<void>;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    maxMs: number,
    private readonly graceMs: number,
  ) {
    this.ready = new Promise<void>((resolve) => {
      this.arrive = resolve;
    });
    this.timers.push(setTimeout(this.arrive, maxMs));
  }

  /** Keeps `content` for the post; false once the hold has ended (the caller shows it the usual way). */
  offer(content: HeldContent): boolean {
    if (this.ended) return false;
    if (content.final) this.arrive();
    else if (!this.content) this.timers.push(setTimeout(this.arrive, this.graceMs));
    // A final is the last word: a thinking line the clock still ticks out must not replace it.
    if (!this.content?.final) this.content = content;
    return true;
  }

  /** Ends the hold and returns what the post carries: the newest content, or undefined when none came in time. */
  take(): HeldContent | undefined {
    this.ended = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.arrive();
    return this.content;
  }
}
