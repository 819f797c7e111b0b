import { describe, expect, it } from 'vitest';
import { DeviceClock, LAST_KEY, NODE_KEY, physicalMs, SEEN_KEY, type ClockStorage } from './clock';

/** A localStorage stand-in shared by "tabs" and surviving "reloads" (new DeviceClock objects). */
function storage(): ClockStorage & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return { values, getItem: (k) => values.get(k) ?? null, setItem: (k, v) => void values.set(k, v) };
}

describe('the device clock', () => {
  it('makes one node id per profile (16 lowercase hex digits) and keeps it', () => {
    const kept = storage();
    const node = new DeviceClock(kept).node();
    expect(node).toMatch(/^[0-9a-f]{16}$/);
    expect(new DeviceClock(kept).node()).toBe(node);
    expect(kept.values.get(NODE_KEY)).toBe(node);
    expect(new DeviceClock(storage()).node()).not.toBe(node);
  });

  it('stamps in increasing order, with the wall time and the node in the clock', () => {
    let wall = 1_733_356_800_000;
    const clock = new DeviceClock(storage(), () => wall);
    const a = clock.stamp();
    const b = clock.stamp();
    wall += 5;
    const c = clock.stamp();
    expect(a < b && b < c).toBe(true);
    expect(physicalMs(a)).toBe(1_733_356_800_000);
    expect(physicalMs(c)).toBe(1_733_356_800_005);
    expect(a.endsWith(clock.node())).toBe(true);
  });

  it('stays monotonic across a reload and another tab, and when the wall time goes backwards', () => {
    const kept = storage();
    let wall = 2_000_000_000_000;
    const tabA = new DeviceClock(kept, () => wall);
    const first = tabA.stamp();
    // The learner sets the time back an hour; a reload (a new clock on the same storage) and a second tab.
    wall -= 3_600_000;
    const reloaded = new DeviceClock(kept, () => wall);
    const tabB = new DeviceClock(kept, () => wall);
    const second = reloaded.stamp();
    const third = tabB.stamp();
    const fourth = tabA.stamp();
    expect([first, second, third, fourth]).toEqual([...[first, second, third, fourth]].sort());
    expect(new Set([first, second, third, fourth]).size).toBe(4);
    expect(physicalMs(fourth)).toBe(2_000_000_000_000);
    expect(kept.values.get(LAST_KEY)).toBe(fourth);
  });

  it('moves past a clock it observes, so the next local write is later than what it saw', () => {
    const wall = 1_000_000_000_000;
    const clock = new DeviceClock(storage(), () => wall);
    const mine = clock.stamp();
    const remote = `${wall + 60_000}-0003-00000000000000ff`;
    clock.observe(remote);
    const next = clock.stamp();
    expect(next > remote).toBe(true);
    expect(next > mine).toBe(true);
    // Observing an older clock changes nothing about the order.
    clock.observe(mine);
    expect(clock.stamp() > next).toBe(true);
  });

  describe('set right again after running ahead of the server (forgetAhead)', () => {
    const HOUR = 3_600_000;
    const BOUND = 600_000;
    const server = 2_000_000_000_000;

    it('follows the corrected wall clock again, but never goes below what the server sent', () => {
      const kept = storage();
      let wall = server + HOUR; // the device's time is an hour ahead
      const clock = new DeviceClock(kept, () => wall);
      const pulled = `${server - 5_000}-0002-00000000000000aa`;
      clock.observe(pulled);
      const ahead = clock.stamp();
      expect(physicalMs(ahead)).toBe(server + HOUR);
      // Still ahead when the server answers: nothing changes.
      expect(clock.forgetAhead(server, BOUND)).toBe(false);
      expect(clock.last()).toBe(ahead);
      expect(physicalMs(clock.stamp())).toBe(server + HOUR);

      // The learner sets the time right: the future is forgotten, new stamps follow the wall clock.
      wall = server + 1_000;
      expect(clock.forgetAhead(server, BOUND)).toBe(true);
      const next = clock.stamp();
      expect(physicalMs(next)).toBe(server + 1_000);
      expect(next > pulled).toBe(true);
      expect(next < ahead).toBe(true);
      expect(kept.values.get(SEEN_KEY)).toBe(pulled);
      // A reload keeps it; stamps go on increasing from there.
      const reloaded = new DeviceClock(kept, () => wall);
      expect(reloaded.stamp() > next).toBe(true);
    });

    it('goes back no further than the newest clock seen from the server, even when that is ahead of the wall clock', () => {
      let wall = server + HOUR;
      const clock = new DeviceClock(storage(), () => wall);
      clock.stamp();
      // Another device's write, 9 minutes ahead of the server and accepted, was pulled.
      const pulled = `${server + 9 * 60_000}-0000-00000000000000bb`;
      clock.observe(pulled);
      wall = server;
      expect(clock.forgetAhead(server, BOUND)).toBe(true);
      const next = clock.stamp();
      expect(next > pulled).toBe(true);
      expect(physicalMs(next)).toBe(server + 9 * 60_000);
    });

    it('leaves a clock that is not ahead of the wall clock alone', () => {
      let wall = server;
      const clock = new DeviceClock(storage(), () => wall);
      const a = clock.stamp();
      wall += 60_000;
      expect(clock.forgetAhead(server, BOUND)).toBe(true);
      expect(clock.last()).toBe(a);
      expect(clock.stamp() > a).toBe(true);
    });

    it('with nothing seen from the server yet, starts from the wall clock', () => {
      let wall = server + HOUR;
      const clock = new DeviceClock(storage(), () => wall);
      clock.stamp();
      wall = server;
      expect(clock.forgetAhead(server, BOUND)).toBe(true);
      expect(physicalMs(clock.stamp())).toBe(server);
    });
  });
});
