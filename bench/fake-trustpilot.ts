/**
 * Throughput check for the fake Trustpilot: N email invitations at concurrency C against a
 * fresh in-process server (rate limit off), over keep-alive connections.
 *   npx tsx bench/fake-trustpilot.ts [requests=5000] [concurrency=50]
 */
import { Agent, request } from 'node:http';
import { FAKE_DEFAULTS, startFakeTrustpilot } from '../src/fake-trustpilot/server.ts';

const total = Number(process.argv[2] ?? 5_000);
const concurrency = Number(process.argv[3] ?? 50);

interface Answer {
  status: number;
  body: string;
}

function post(agent: Agent, url: URL, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const fake = await startFakeTrustpilot({ rateLimit: null });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    const basic = Buffer.from(`${FAKE_DEFAULTS.apiKey}:${FAKE_DEFAULTS.apiSecret}`).toString('base64');
    const tokenAnswer = await post(agent, new URL('/v1/oauth/oauth-business-users-for-applications/accesstoken', fake.apiUrl), {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    }, 'grant_type=client_credentials');
    const { access_token: token } = JSON.parse(tokenAnswer.body) as { access_token: string };

    const url = new URL(`/v1/private/business-units/${FAKE_DEFAULTS.businessUnitId}/email-invitations`, fake.invitationsApiUrl);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-business-user-id': FAKE_DEFAULTS.businessUserId };
    let next = 0;
    const statuses = new Map<number, number>();
    async function worker(): Promise<void> {
      while (next < total) {
        const index = next++;
        const body = JSON.stringify({
          consumerEmail: `customer${index}@example.com`,
          consumerName: `Customer ${index}`,
          referenceNumber: `ORDER-${index}`,
          locale: 'en-US',
          serviceReviewInvitation: { preferredSendTime: '2030-01-01T10:00:00Z', tags: ['bench'] },
        });
        const { status } = await post(agent, url, headers, body);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }
    const startedAt = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - startedAt) / 1000;
    console.log(`${total} email invitations, concurrency ${concurrency}: ${seconds.toFixed(2)} s, ${Math.round(total / seconds)} requests/s`);
    console.log(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}; accepted: ${fake.accepted().length}`);
  } finally {
    agent.destroy();
    await fake.close();
  }
}

await main();
