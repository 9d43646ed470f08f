// A certified OpenID provider (the npm package `oidc-provider`, v8) for the interoperability
// test: one confidential client for client credentials (a partner system) and one public client
// for the authorization-code flow with PKCE (a person), issuing JWT access tokens
// (RFC 9068, `typ: at+jwt`) with audience "casusoverleg".
//
// Usage: node provider.mjs PORT ACCOUNT_ID      (run from the directory holding node_modules)
// Prints "ready <issuer>" on stdout once it listens on 127.0.0.1.
// Logging in is automatic: the interaction endpoint signs in ACCOUNT_ID and grants consent.
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const accountId = process.argv[3] || 'person-1';
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = 'https://casusoverleg.test/api';
const API_SCOPES = 'events:write cases:read-minimal webhooks:manage';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `interop-${Date.now()}`, use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'partner-system',
      client_secret: 'partner-system-secret-for-tests-only',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: API_SCOPES,
    },
    {
      client_id: 'web-client',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['interop-test-cookie-key-not-secret'] },
  pkce: { required: () => true, methods: ['S256'] },
  scopes: ['openid', 'profile', ...API_SCOPES.split(' ')],
  claims: { openid: ['sub'], profile: ['name'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: API_SCOPES,
        audience: 'casusoverleg',
        accessTokenTTL: 600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id, name: 'Pim Proef' }; } };
  },
});
provider.proxy = false;

const callback = provider.callback();

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details || {};
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
    return;
  }
  callback(req, res);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
