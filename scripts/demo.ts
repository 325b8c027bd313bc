// `npm start`: the demo. Starts the bundled "legacy intranet" app on 127.0.0.1:8081, makes sure the
// demo users are in the store with known authenticator seeds (so `oathtool` gives their codes
// before the portal exists), then runs the gateway from config/demo.yaml in front of the app.
import path from 'node:path';
import { startIntranetApp } from '../demo/intranet-app.ts';
import { loadConfig } from '../src/config/load.ts';
import { buildServices, startService } from '../src/main.ts';

const CONFIG = path.resolve(import.meta.dirname, '../config/demo.yaml');
/** Public demo seeds: anyone can compute these codes, which is the point of a demo. */
export const DEMO_SEEDS: Record<string, string> = {
  alice: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  bob: 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU',
};

async function prepareDemoUsers(): Promise<void> {
  const config = loadConfig(CONFIG);
  const services = await buildServices(config);
  const ctx = { actor: 'demo', channel: 'cli' as const, clientAddress: 'local' };
  try {
    await services.importUsers({}, ctx, { allowEmpty: false });
    for (const [username, seed] of Object.entries(DEMO_SEEDS)) {
      const user = await services.store.findUserByName(username);
      if (user && (await services.store.listTotpFactors(user.id)).length === 0)
        await services.userAdmin.enrollTotp(username, ctx, 'demo authenticator', seed);
    }
  } finally {
    await services.close();
  }
}

const app = await startIntranetApp({ host: '127.0.0.1', port: 8081 });
await prepareDemoUsers();
const service = await startService(loadConfig(CONFIG));
console.error(`
  mfa-gateway demo: open ${service.addresses[0]}/ (the intranet app at ${app.url} sits behind it)
  sign in as alice / alice-demo, code: oathtool --totp -b ${DEMO_SEEDS.alice}
  (bob / bob-demo has seed ${DEMO_SEEDS.bob}; carol / carol-demo has no second factor yet)
`);
const stop = async () => {
  await service.stop();
  await app.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
