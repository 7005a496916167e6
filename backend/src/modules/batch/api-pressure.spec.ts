import { ApiPressure } from './api-pressure';

describe(ApiPressure.name, () => {
  let now: number;
  let sut: ApiPressure;
  beforeEach(() => {
    now = 1_000;
    sut = new ApiPressure(() => now);
  });

  it('is quiet before any request', () => {
    expect(sut.busy).toBe(false);
  });

  it('is busy while a request is in flight, however long it takes', () => {
    sut.enter();
    sut.enter();
    sut.leave();
    now += 10_000;
    expect(sut.busy).toBe(true);
  });

  it('stays busy for a moment after the last request, then is quiet', () => {
    sut.enter();
    sut.leave();
    now += 49;
    expect(sut.busy).toBe(true);
    now += 1;
    expect(sut.busy).toBe(false);
  });

  it('never counts below zero (a close after the count was reset)', () => {
    sut.leave();
    sut.enter();
    now += 100;
    expect(sut.busy).toBe(true);
    sut.leave();
    now += 100;
    expect(sut.busy).toBe(false);
  });
});
