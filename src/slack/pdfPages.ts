import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import pLimit from 'p-limit';

/** What parsing a PDF told: its page count, or why Claude could not read it. */
export type PdfPages = { pages: number } | { problem: 'damaged' | 'encrypted' };

export interface PdfPagesOptions {
  /** The longest one parse may take before its worker is terminated; 5 s by default. */
  timeoutMs?: number;
  /** Ends the parse (terminates the worker) early: the answer no longer needs it. */
  signal?: AbortSignal;
}

/**
 * A PDF of FILE_MAX_BYTES (20 MB) of ordinary objects parses in well under a second; 5 s leaves room for a
 * loaded machine while ending a crafted one (one 19 MB token takes pdf-lib about 10 s and 1.3 GB) long
 * before the answer's file deadline.
 */
const PARSE_TIMEOUT_MS = 5_000;

/**
 * The worker's V8 heap. pdf-lib holds a parsed PDF in a few times its size, so 256 MB fits any file up to
 * Claude's 32 MB request limit, and a crafted one runs out of memory in the worker, not in the bot.
 */
const WORKER_HEAP_MB = 256;

/** Parses at once in this process, so a burst of crafted PDFs costs at most 2 cores and 2 × 256 MB. */
const parses = pLimit(2);

/**
 * pdf-lib's CommonJS entry, resolved here: the worker's code is evaluated, not imported, so it loads the same
 * way under tsx, Jest (whose transform a Worker never goes through) and compiled JS.
 */
const PDF_LIB = createRequire(import.meta.url).resolve('pdf-lib');

/** The worker: loads the PDF (with no pause between objects, there is nothing else to serve) and answers once. */
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
// pdf-lib reports each object it cannot parse on the console ("Trying to parse invalid object…").
for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace']) console[level] = () => {};
const { PDFDocument } = require(workerData.pdfLib);
PDFDocument.load(workerData.bytes, { ignoreEncryption: true, updateMetadata: false, objectsPerTick: Infinity }).then(
  (pdf) => parentPort.postMessage(pdf.isEncrypted ? { problem: 'encrypted' } : { pages: pdf.getPageCount() }),
  () => parentPort.postMessage({ problem: 'damaged' }),
);
`;

/**
 * Counts a PDF's pages with pdf-lib in a worker thread, off the event loop and inside a heap limit: pdf-lib's
 * parse is synchronous within one object, so a crafted PDF would block every other answer. Never rejects: a
 * PDF that fails to parse, has no pages, takes too long or exhausts the worker's heap is `damaged`.
 */
export function pdfPages(bytes: Uint8Array, options: PdfPagesOptions = {}): Promise<PdfPages> {
  return parses(() => (options.signal?.aborted ? { problem: 'damaged' as const } : parseInWorker(bytes, options)));
}

function parseInWorker(bytes: Uint8Array, { timeoutMs = PARSE_TIMEOUT_MS, signal }: PdfPagesOptions): Promise<PdfPages> {
  return new Promise((resolve) => {
    const worker = new Worker(WORKER_CODE, {
      eval: true,
      workerData: { pdfLib: PDF_LIB, bytes },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      // The bot's own flags (tsx's loader) are of no use to the worker's plain CommonJS.
      execArgv: [],
    });
    const finish = (result: PdfPages): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
      void worker.terminate();
      resolve(result);
    };
    const cancel = (): void => finish({ problem: 'damaged' });
    const timer = setTimeout(cancel, timeoutMs);
    signal?.addEventListener('abort', cancel, { once: true });
    worker.once('message', (result: PdfPages) => finish('pages' in result && result.pages === 0 ? { problem: 'damaged' } : result));
    // ERR_WORKER_OUT_OF_MEMORY, or a pdf-lib that failed to load.
    worker.once('error', cancel);
    worker.once('exit', cancel);
  });
}
