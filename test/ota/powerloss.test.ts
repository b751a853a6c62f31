// Power loss at random instants of an A -> B update (download, switch-over, trial, confirmation):
// every following boot must run a complete, verified script, and the update must still finish.
import { strict as assert } from "node:assert";

import { chooseBoot, readBootRecord } from "../../firmware/ota-slots";
import { FlashStore, UpdateHost, Publisher, fakeHal, otaFor, image, rng, passHealth, KEY, MANIFEST_URL } from "./fakes";

const A = image("1.0.0", 4000);
const B = image("1.1.0", 9001);
const C = image("1.2.0", 7003);
const VERSION_OF: { [content: string]: string } = { [A]: "1.0.0", [B]: "1.1.0", [C]: "1.2.0" };

/**
 * One boot: the boot stage picks a slot, which must hold A or B whole (and the record's version
 * must be that script's); then that firmware passes its health check, publishes once and runs its
 * OTA step.
 * Returns the running version.
 */
function boot(store: FlashStore, host: UpdateHost, label: string): string {
  const choice = chooseBoot(store);
  assert.ok(choice, `${label}: nothing to boot`);
  const content = store.files[choice.slot];
  const version = VERSION_OF[content as string];
  assert.ok(version, `${label}: ${choice.slot} is not a complete script (${content === undefined ? "absent" : content.length + " bytes"})`);
  if (choice.version !== undefined) assert.equal(choice.version, version, `${label}: boot record names another version`);
  const dev = fakeHal(store, host);
  const ota = otaFor(dev.hal, { productKey: "pk1", deviceName: "dev1", manifestUrl: MANIFEST_URL, version, chunkBytes: 1000, trialBoots: 3, everyCycles: 1 },
    new Publisher());
  passHealth(dev, ota);
  ota.afterPublish(0, () => undefined);
  return version;
}

/** Boots until `target` runs confirmed and nothing changes any more; returns the versions booted. */
function bootUntilSettled(store: FlashStore, host: UpdateHost, label: string, target: string): string[] {
  const versions: string[] = [];
  for (let i = 0; i < 12; i++) {
    versions.push(boot(store, host, `${label} boot ${i}`));
    if (store.dead) return versions;
    const r = readBootRecord(store);
    if (versions[versions.length - 1] === target && r && r.v === target && r.t === undefined) return versions;
  }
  assert.fail(`${label}: did not settle on ${target}: ${versions.join(" ")}`);
}

describe("ota: power loss", () => {
  const factory = { ".boot0": "boot stage", "fw.a": A, "ota.pub": KEY.pub };
  const hostB = new UpdateHost();
  hostB.publish("1.1.0", B);
  // After A -> B: B runs from fw.b, A is the rollback copy in fw.a, and C is offered: this update
  // downloads into fw.a, the slot a factory-state boot would fall back to.
  const onB = new FlashStore(factory);
  bootUntilSettled(onB, hostB, "setup", "1.1.0");
  const hostC = new UpdateHost();
  hostC.publish("1.2.0", C, KEY, undefined, 2);

  it("without power loss the sequence is A (installs B), B (trial, health check passes), B (confirmed)", () => {
    const store = new FlashStore(factory);
    assert.deepEqual(bootUntilSettled(store, hostB, "clean", "1.1.0"), ["1.0.0", "1.1.0", "1.1.0"]);
    assert.deepEqual(bootUntilSettled(onB.reboot(), hostC, "clean", "1.2.0"), ["1.1.0", "1.2.0", "1.2.0"]);
  });

  const cases: [string, FlashStore, UpdateHost, string][] = [
    ["A -> B from the factory state", new FlashStore(factory), hostB, "1.1.0"],
    ["B -> C into the slot of A", onB, hostC, "1.2.0"],
  ];
  for (const [name, start, host, target] of cases) {
    it(`${name}, power lost at 50 random instants: always boots a complete script, ends on ${target}`, () => {
      const clean = start.reboot();
      bootUntilSettled(clean, host, "count", target);
      const totalOps = clean.ops;
      assert.ok(totalOps > 10, `only ${totalOps} flash operations`);
      const hits: number[] = [];
      for (let seed = 1; seed <= 50; seed++) {
        const rand = rng(seed);
        const store = start.reboot();
        const at = Math.floor(rand() * totalOps);
        hits.push(at);
        store.powerFailAt(at, rand);
        const label = `seed ${seed} (power lost at flash op ${at}/${totalOps})`;
        bootUntilSettled(store, host, label, target);
        assert.ok(store.dead, `${label}: the failure was not reached`);
        const versions = bootUntilSettled(store.reboot(), host, label + ", after", target);
        assert.equal(versions[versions.length - 1], target);
      }
      // The instants cover the download (writeAt) and the record writes around the switch.
      assert.ok(Math.max(...hits) - Math.min(...hits) > totalOps / 2, hits.join(","));
    });
  }
});
