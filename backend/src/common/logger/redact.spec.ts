import { redact } from './redact';

describe(redact.name, () => {
  it('hides secret keys and token-looking strings at any depth', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLXZhbHVl';
    const sut = redact({
      headers: { authorization: `Bearer ${jwt}`, accept: 'json' },
      password: 'hunter2',
      nested: [{ apiKey: 'k' }, `token was ${jwt}`],
    });
    expect(JSON.stringify(sut)).not.toContain(jwt);
    expect(JSON.stringify(sut)).not.toContain('hunter2');
    expect(sut).toMatchObject({
      headers: { authorization: '[REDACTED]', accept: 'json' },
      nested: [{ apiKey: '[REDACTED]' }, 'token was [REDACTED]'],
    });
  });
});
