import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3rver, type LocalServer } from './servers.js';
import { BUCKET, PREFIX, TEMPLATES, storageSuite } from './suite.js';

// A real S3-compatible server (s3rver from npm) on a free loopback port, stopped by pid afterwards.
// s3rver rejects unknown access key ids (InvalidAccessKeyId) but does not verify SigV4 signatures,
// so the bad-credentials case here is a wrong key id; Azurite (azure.test.ts) covers a wrong secret.
let server: LocalServer;
let admin: S3Client;

storageSuite({
  provider: 's3',
  async start() {
    server = await startS3rver([]);
    admin = new S3Client({
      region: 'us-east-1',
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const [k, v] of Object.entries(TEMPLATES))
      await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: v }));
  },
  async stop() {
    admin?.destroy();
    await server?.stop();
  },
  storage: (over = {}) => ({
    kind: 's3',
    bucket: BUCKET,
    region: 'us-east-1',
    endpoint: server.endpoint,
    force_path_style: true,
    access_key_id: 'S3RVER',
    secret_access_key: 'S3RVER',
    prefix: PREFIX,
    template_objects: Object.keys(TEMPLATES),
    ...over,
  }),
  port: () => server.port,
  endpointFor: (origin) => origin,
  async keys(prefix) {
    const r = await admin.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    return (r.Contents ?? []).map((o) => o.Key!);
  },
  badCredentials: () => ({
    over: { access_key_id: 'AKIAEXAMPLEBADKEY123', secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz' },
    secrets: ['AKIAEXAMPLEBADKEY123', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz'],
  }),
  secrets: ['S3RVER'],
});
