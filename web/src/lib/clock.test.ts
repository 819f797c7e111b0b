import { describe, expect, it } from 'vitest';
import { DeviceClock, LAST_KEY, NODE_KEY, physicalMs, type ClockStorage } from './clock';

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
});
