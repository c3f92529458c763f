import { createServer } from 'node:net';

const LOOPBACK = '127.0.0.1';

/** A TCP port on loopback that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** Whether something listens on `port` of `host` (a probe that cannot bind it exclusively). */
export async function portInUse(port: number, host = LOOPBACK): Promise<boolean> {
  return await new Promise((resolvePort) => {
    const probe = createServer();
    probe.once('error', () => resolvePort(true));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolvePort(false)));
  });
}
