// A real, certified OpenID Connect provider (panva's oidc-provider) for the tests of the
// contest's "DGA Digital ID" log-in. It signs in a fixed test person without a form: the
// account is the `login_hint` the client sends (default "citizen-1"), and consent is granted.
//   PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI from the environment.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);
const issuer = `http://127.0.0.1:${port}`;
const people = {
  'citizen-1': { given_name: 'สมชาย', family_name: 'ใจดี' },
  'citizen-2': { given_name: 'สมหญิง', family_name: 'รักดี' },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID || 'contest-test',
    client_secret: process.env.CLIENT_SECRET || 'contest-test-secret',
    redirect_uris: [process.env.REDIRECT_URI || 'http://testserver.local/login/digital-id/callback'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['openid', 'email', 'given_name', 'family_name'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    given_name: ['given_name'],
    family_name: ['family_name'],
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['contest-test-oidc-provider'] },
  async findAccount(ctx, id) {
    const person = people[id] || { given_name: 'ผู้ทดสอบ', family_name: id };
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@digital-id.test`, email_verified: true, pid: '1100700000001', ...person };
      },
    };
  },
});
provider.proxy = false;

// POST /test/tamper {"mode": "payload"} spoils the next token response's ID token (another
// subject under the original signature), so the contest's real verification can be seen to
// refuse it through its callback.
let tamper = null;
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && tamper && ctx.body && typeof ctx.body.id_token === 'string') {
    const [header, payload, signature] = ctx.body.id_token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.sub = 'someone-else';
    ctx.body.id_token = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    tamper = null;
  }
});

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/test/tamper') {
      tamper = 'payload';
      res.end('{"tamper":"payload"}');
      return;
    }
    if (req.url.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      const accountId = details.params.login_hint || 'citizen-1';
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } },
        { mergeWithLastSubmission: false });
      return;
    }
    callback(req, res);
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
});
server.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  if (actual !== port) {
    console.error('PORT must be given: the issuer names it');
    process.exit(1);
  }
  console.log(`oidc-provider ${issuer}`);
});
