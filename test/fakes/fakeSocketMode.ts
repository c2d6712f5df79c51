import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { pollUntil } from './httpUtil.js';

/**
 * Slack's Socket Mode end on loopback: the bot reaches it through the URL that FakeSlack's
 * `apps.connections.open` returns; it greets with `hello`, delivers envelopes and records the acks
 * (https://api.slack.com/apis/socket-mode).
 */
export class FakeSocketMode {
  readonly acks: string[] = [];
  private readonly sockets = new Set<WebSocket>();

  private constructor(
    private readonly server: WebSocketServer,
    readonly url: string,
  ) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { envelope_id?: string };
        if (message.envelope_id) this.acks.push(message.envelope_id);
      });
      socket.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0001' }, debug_info: { host: 'fake' } }));
    });
  }

  /** Starts listening on a free loopback port. */
  static async start(): Promise<FakeSocketMode> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    return new FakeSocketMode(server, `ws://127.0.0.1:${port}/link`);
  }

  /** Bots connected right now. */
  get connections(): number {
    return this.sockets.size;
  }

  waitForConnection(timeoutMs = 5_000): Promise<void> {
    return pollUntil(() => this.sockets.size > 0, timeoutMs, () => 'no bot connected to FakeSocketMode');
  }

  /** Delivers `event` as an `events_api` envelope; resolves with the envelope id the bot must ack. */
  sendEvent(event: object, teamId = 'T0001'): string {
    const envelopeId = randomUUID();
    const payload = {
      token: 'legacy-verification-token',
      team_id: teamId,
      api_app_id: 'A0001',
      event,
      type: 'event_callback',
      event_id: `Ev${randomUUID().slice(0, 8)}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: teamId, user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    };
    const envelope = { envelope_id: envelopeId, type: 'events_api', accepts_response_payload: false, retry_attempt: 0, retry_reason: '', payload };
    for (const socket of this.sockets) socket.send(JSON.stringify(envelope));
    return envelopeId;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
