// Cost of rendering while streaming: one toMrkdwn per Slack edit of a growing partial answer, with the
// answer's own render cache as the bot passes it (AnswerLayout.render).
import { pathToFileURL } from 'node:url';
import { RenderCache, toMrkdwn } from '../src/slack/render.js';

/** Rendering cost per intermediate edit (12,000-char answer) and total CPU for a 40,000-char answer rendered per chunk. */
export interface RenderBench {
  /** Median and p99 over the edits of the best of SWEEPS timings of each edit: the rendering's own cost. */
  perEditMedianUs: number;
  perEditP99Us: number;
  /** p99 over every single timing, so including preemption by other processes and GC pauses. */
  perEditP99AnyRunUs: number;
  total40kCpuMs: number;
}

const EDIT_STEP = 50;
// Each sweep renders the same edits of its own answer with a cache of its own; the best of five per edit
// filters out the machine's noise, not rendering work.
const SWEEPS = 5;
const CHUNKS_40K = 4000;
// A running bot has its rendering code optimised by the JIT; so must the bench before it measures.
const WARMUP_SWEEPS = 3;

/** Measures toMrkdwn over growing prefixes of a typical Claude answer (target: p99 < 2 ms per edit). */
export async function benchRender(): Promise<RenderBench> {
  for (let sweep = 0; sweep < WARMUP_SWEEPS; sweep++) editSweep(sampleAnswer(12_000, `warm-up ${sweep}`));
  const sweeps = Array.from({ length: SWEEPS }, (_, sweep) => editSweep(sampleAnswer(12_000, `sweep ${sweep}`)));
  const bestUs = (sweeps[0] ?? []).map((_, edit) => Math.min(...sweeps.map((timings) => timings[edit] ?? Infinity))).sort((a, b) => a - b);
  const everyUs = sweeps.flat().sort((a, b) => a - b);

  const answer40k = sampleAnswer(40_000, 'long');
  const chunk = Math.ceil(answer40k.length / CHUNKS_40K);
  const cache = new RenderCache();
  const cpuStart = process.cpuUsage();
  for (let end = chunk; end < answer40k.length + chunk; end += chunk) toMrkdwn(answer40k.slice(0, end), { streaming: true, cache });
  const cpu = process.cpuUsage(cpuStart);

  return {
    perEditMedianUs: round(percentile(bestUs, 0.5)),
    perEditP99Us: round(percentile(bestUs, 0.99)),
    perEditP99AnyRunUs: round(percentile(everyUs, 0.99)),
    total40kCpuMs: round((cpu.user + cpu.system) / 1000),
  };
}

/** Renders `answer` as the edits of its streaming would, returning each render's wall time in µs. */
function editSweep(answer: string): number[] {
  const cache = new RenderCache();
  const samplesUs: number[] = [];
  for (let end = EDIT_STEP; end <= answer.length; end += EDIT_STEP) {
    const prefix = answer.slice(0, end);
    const start = process.hrtime.bigint();
    toMrkdwn(prefix, { streaming: true, cache });
    samplesUs.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return samplesUs;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** A deterministic answer shaped like Claude's: headings, prose with inline formatting, lists, code, a table. */
function sampleAnswer(length: number, title: string): string {
  const sections = [
    `## Overview (${title})\n\n` +
      'The **rendering** step turns _Markdown_ into Slack `mrkdwn`, escaping `<`, `>` and `&` so that text such as <!here> & @channel stays inert. See [the reference](https://api.slack.com/reference/surfaces/formatting) or https://example.com/docs?a=1&b=2 for details.\n',
    '- First point with **bold** text\n- Second point with `inline code`\n  - Nested detail ~~removed~~ kept\n  - Another nested detail\n1. Step one\n2. Step two\n',
    '```python\ndef render(tokens):\n    for token in tokens:\n        if token.kind == "text" and len(token) > 3:\n            yield escape(token)\n```\n',
    '| Option | Default | Meaning |\n|---|:---:|---:|\n| `limit` | 3500 | rendered characters |\n| `streaming` | false | partial answer |\n',
    '> A quoted remark that spans\n> two lines of text.\n\n---\n',
  ];
  let out = '';
  for (let i = 0; out.length < length; i++) out += `${sections[i % sections.length]}\n`;
  return out.slice(0, length);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await benchRender());
}
