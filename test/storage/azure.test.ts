import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type LocalServer } from './servers.js';
import { BUCKET, PREFIX, TEMPLATES, storageSuite } from './suite.js';

// Azurite's blob service (npm) on a free loopback port, stopped by pid afterwards. Azurite verifies
// Shared Key signatures, so a wrong account key is rejected as a real account would reject it.
let server: LocalServer;
let container: ContainerClient;
const WRONG_KEY = Buffer.from('not-the-account-key-but-64-bytes-long-------------------------!!').toString('base64');

storageSuite({
  provider: 'azure',
  async start() {
    server = await startAzurite();
    const svc = new BlobServiceClient(
      `${server.endpoint}/${AZURITE_ACCOUNT}`,
      new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
    );
    container = svc.getContainerClient(BUCKET);
    await container.create();
    for (const [k, v] of Object.entries(TEMPLATES)) await container.getBlockBlobClient(k).upload(v, v.length);
  },
  async stop() {
    await server?.stop();
  },
  storage: (over = {}) => ({
    kind: 'azure',
    bucket: BUCKET,
    endpoint: `${server.endpoint}/${AZURITE_ACCOUNT}`,
    account_name: AZURITE_ACCOUNT,
    account_key: AZURITE_KEY,
    prefix: PREFIX,
    template_objects: Object.keys(TEMPLATES),
    ...over,
  }),
  port: () => server.port,
  endpointFor: (origin) => `${origin}/${AZURITE_ACCOUNT}`,
  async keys(prefix) {
    const out: string[] = [];
    for await (const b of container.listBlobsFlat({ prefix, includeUncommitedBlobs: true })) out.push(b.name);
    return out;
  },
  badCredentials: () => ({ over: { account_key: WRONG_KEY }, secrets: [WRONG_KEY, AZURITE_KEY] }),
  secrets: [AZURITE_KEY],
});
