import { isDeadLocalOwner, registerLocalWorker } from './dead-owners';

describe(isDeadLocalOwner.name, () => {
  const self = 'web-1:4242:aaaa1111';
  const alive = (pid: number) => pid === 100;

  it('finds dead processes of this host only', () => {
    expect(isDeadLocalOwner('web-1:200:bbbb2222', self, alive)).toBe(true);
    expect(isDeadLocalOwner('web-1:100:bbbb2222', self, alive)).toBe(false);
    expect(isDeadLocalOwner('web-2:200:bbbb2222', self, alive)).toBe(false);
  });

  it('takes an earlier incarnation at this very pid (a restarted container) for dead, never itself', () => {
    expect(isDeadLocalOwner('web-1:4242:cccc3333', self, alive)).toBe(true);
    expect(isDeadLocalOwner(self, self, alive)).toBe(false);
  });

  it('never takes a live worker of this process for dead (several apps in one process)', () => {
    const unregister = registerLocalWorker('web-1:4242:dddd4444');
    expect(isDeadLocalOwner('web-1:4242:dddd4444', self, alive)).toBe(false);
    unregister();
    expect(isDeadLocalOwner('web-1:4242:dddd4444', self, alive)).toBe(true);
  });

  it('leaves owners it cannot read alone', () => {
    for (const owner of ['web-1', 'web-1:abc:x', 'web-1:-3:x', ''])
      expect(isDeadLocalOwner(owner, self, alive)).toBe(false);
  });

  it('asks the operating system by default', () => {
    expect(isDeadLocalOwner(`web-1:${process.pid}:zzzz`, `web-1:1:${'y'.repeat(8)}`)).toBe(false);
  });
});
