import { createServer, type Server } from 'node:http';
import { startTestBot, type TestBot } from '../harness.js';
import { closeServer, listenOnLoopback } from '../fakes/httpUtil.js';
import { dockerfileInstructions, healthcheckArgv, run, unusedPort, type Instruction } from './deployFiles.js';

/** The instructions of each build stage, by stage name (`FROM … AS name`; the last stage is the image). */
function stages(instructions: Instruction[]): { name: string; base: string; body: Instruction[] }[] {
  const result: { name: string; base: string; body: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [base = '', , name = `stage${result.length}`] = instruction.args.split(/\s+/);
      result.push({ name, base, body: [] });
    } else {
      result.at(-1)?.body.push(instruction);
    }
  }
  return result;
}

describe('Dockerfile (checked without a Docker daemon)', () => {
  const instructions = dockerfileInstructions();
  const all = stages(instructions);
  const runtime = all.at(-1)!;
  const args = (keyword: string, body = runtime.body) => body.filter((i) => i.keyword === keyword).map((i) => i.args);

  test('is multi-stage: the build compiles with dev dependencies, the image gets production dependencies only', () => {
    expect(all.length).toBeGreaterThan(1);
    const build = all.find((stage) => args('RUN', stage.body).some((run) => /\bnpm run build\b/.test(run)))!;
    expect(build).toBeDefined();
    expect(args('RUN', build.body).some((run) => /\bnpm ci\b/.test(run) && !run.includes('--omit=dev'))).toBe(true);

    // The runtime stage installs nothing itself: it copies dist/ from the build and node_modules from an --omit=dev install.
    const copies = args('COPY');
    expect(copies).toContainEqual(expect.stringMatching(new RegExp(`--from=${build.name}\\s+\\S*dist\\b`)));
    const modules = copies.find((copy) => /node_modules/.test(copy))!;
    const depsStage = all.find((stage) => modules.includes(`--from=${stage.name} `))!;
    expect(args('RUN', depsStage.body).some((run) => /\bnpm ci\b.*--omit=dev/.test(run))).toBe(true);
    expect(args('RUN').some((run) => /\bnpm (ci|install)\b/.test(run))).toBe(false);
    expect(copies).toContainEqual(expect.stringMatching(/\bmanifest\.yml\b/));
  });

  test('the image runs on slim Node 20 as a non-root user, in production, stopped by SIGTERM', () => {
    const nodeImage = instructions.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='))?.args.split('=')[1];
    const base = runtime.base.replace('${NODE_IMAGE}', nodeImage ?? '');
    expect(base).toMatch(/^node:20[.\d]*-\w*-?slim$/);
    const users = args('USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    expect(args('ENV').join(' ')).toMatch(/\bNODE_ENV=production\b/);
    expect(args('STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(args('CMD').at(-1)).toBe('["node", "dist/index.js"]');
  });

  test('the sqlite file lives on a volume the runtime user owns', () => {
    const dataDir = /HISTORY_DB_PATH=(\S+)\/[^/\s]+/.exec(args('ENV').join(' '))?.[1];
    expect(dataDir).toBeDefined();
    expect(args('VOLUME').join(' ')).toContain(dataDir!);
    const user = args('USER').at(-1)!;
    expect(args('RUN')).toContainEqual(expect.stringMatching(new RegExp(`chown\\s+${user}(:\\S+)?\\s+${dataDir}`)));
    // The ownership must be set before VOLUME: changes to a volume's path after it are discarded.
    const order = runtime.body.map((i) => i.keyword);
    expect(order.indexOf('VOLUME')).toBeGreaterThan(runtime.body.findIndex((i) => i.keyword === 'RUN' && i.args.includes(dataDir!)));
  });

  describe("the HEALTHCHECK's own command", () => {
    const healthcheck = healthcheckArgv(instructions);
    let bot: TestBot;
    let port: string;
    let nothing: string;
    beforeAll(async () => {
      bot = await startTestBot();
      port = new URL(bot.url).port;
      nothing = String(await unusedPort());
    });
    afterAll(() => bot.stop());

    test('is node with no other program (the slim image has no curl)', () => {
      expect(healthcheck[0]).toBe('node');
    });

    test('passes against a running bot on PORT', async () => {
      expect((await run(healthcheck, { PORT: port })).code).toBe(0);
    });

    test('fails when nothing listens', async () => {
      expect((await run(healthcheck, { PORT: nothing })).code).not.toBe(0);
    });

    test('asks METRICS_PORT when it is set (Socket Mode has no HTTP port)', async () => {
      expect((await run(healthcheck, { METRICS_PORT: port, PORT: nothing })).code).toBe(0);
      expect((await run(healthcheck, { METRICS_PORT: nothing, PORT: port })).code).not.toBe(0);
    });

    test('fails when /healthz answers an error status', async () => {
      const server: Server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? 503 : 200).end());
      const failing = String(await listenOnLoopback(server));
      try {
        expect((await run(healthcheck, { PORT: failing })).code).not.toBe(0);
      } finally {
        await closeServer(server);
      }
    });
  });
});
