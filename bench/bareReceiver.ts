// The floor under "event → placeholder": a receiver that does nothing but answer the event and post a
// placeholder, over the same loopback path as the bot (the fakes' delivery, the kernel, node:http to the fake
// Slack). What the bot takes beyond it is the latency the bot adds. No Bolt, no signature check, no stores: it is
// not a bot, only the transport's cost, measured in the same run because this machine's speed varies by the hour.
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts the receiver; every event it is sent posts one `chat.postMessage` to `slackApiUrl` in the event's channel. */
export async function startBareReceiver(slackApiUrl: string): Promise<{ url: string; close: () => void }> {
  const agent = new Agent({ keepAlive: true });
  const slack = new URL(slackApiUrl.endsWith('/') ? slackApiUrl : `${slackApiUrl}/`);
  const post = (channel: string) => {
    const body = JSON.stringify({ channel, text: 'Thinking…' });
    const outgoing = request(new URL('chat.postMessage', slack), {
      method: 'POST',
      agent,
      headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: 'Bearer xoxb-bench', 'Content-Length': Buffer.byteLength(body) },
    });
    outgoing.on('response', (response) => response.resume());
    outgoing.on('error', () => undefined);
    outgoing.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.end();
      post((JSON.parse(Buffer.concat(chunks).toString()) as { event: { channel: string } }).event.channel);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.close();
      agent.destroy();
    },
  };
}
