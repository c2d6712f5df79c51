import type { Logger } from '../logger.js';
import type { ThreadKey } from './historyStore.js';
import { threadId } from './threadId.js';

/** Threads remembered as "last save failed"; the oldest are forgotten beyond this (bounded memory). */
const MAX_THREADS = 10_000;

/**
 * Tracks failed history saves (disk full, store down): logs one error line per failure kind until a save
 * succeeds again (then one "saving again" line), and remembers which threads lost an exchange so that the
 * next answer there can say so. In memory, per process.
 */
export class SaveFailures {
  private readonly loggedKinds = new Set<string>();
  private readonly unsaved = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** Records that `thread`'s latest exchange could not be stored. */
  failed(thread: ThreadKey, error: unknown): void {
    const kind = failureKind(error);
    if (this.loggedKinds.has(kind)) {
      this.logger.debug({ err: error, kind }, 'history save failed again');
    } else {
      this.loggedKinds.add(kind);
      this.logger.error({ err: error, kind }, 'could not save history: answers go on, but Claude will not remember these exchanges');
    }
    const id = threadId(thread);
    this.unsaved.delete(id);
    this.unsaved.add(id);
    if (this.unsaved.size > MAX_THREADS) this.unsaved.delete(this.unsaved.values().next().value!);
  }

  /** Records a successful save; the first after failures is logged. */
  saved(): void {
    if (this.loggedKinds.size === 0) return;
    this.logger.info({ kinds: [...this.loggedKinds] }, 'history saves work again');
    this.loggedKinds.clear();
  }

  /** True once after a failed save in `thread`: the answer about to be shown should say the exchange was lost. */
  takeUnsaved(thread: ThreadKey): boolean {
    return this.unsaved.delete(threadId(thread));
  }
}

/** A failure's kind: its code (`SQLITE_FULL`, `ECONNREFUSED`) when it has one, else its class name. */
function failureKind(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' || typeof code === 'number') return String(code);
  return error instanceof Error ? error.name : typeof error;
}
