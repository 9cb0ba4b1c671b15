/** commitQuantized refuses values that would alias another vector modulo p (issue #8, item 5). */
import { expect } from "chai";
import { commitQuantized, MAX_QUANTIZED_MAGNITUDE, SNARK_SCALAR_FIELD } from "../../src/commitments/index.ts";
import { InvalidInputError } from "../../src/errors.ts";

async function refused(values: bigint[]): Promise<InvalidInputError> {
  try {
    await commitQuantized(values, 12);
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  return expect.fail(`[${values.join(", ")}] was committed`);
}

describe("zkml: commitQuantized range", () => {
  const p = SNARK_SCALAR_FIELD;

  it("[-1] commits, [p-1] (its field representative) is refused", async () => {
    await commitQuantized([-1n], 12);
    expect((await refused([p - 1n])).message).to.match(/quantized value 0 .* outside the committable range/);
  });

  it("[5] commits, [5 + p] and [5 - p] are refused", async () => {
    await commitQuantized([5n], 12);
    await refused([5n + p]);
    await refused([5n - p]);
    await refused([1n, 2n, 5n + p]);
  });

  it("accepts exactly ±(p-1)/2", async () => {
    const top = await commitQuantized([MAX_QUANTIZED_MAGNITUDE], 12);
    const bottom = await commitQuantized([-MAX_QUANTIZED_MAGNITUDE], 12);
    expect(top).to.not.equal(bottom);
    await refused([MAX_QUANTIZED_MAGNITUDE + 1n]);
    await refused([-MAX_QUANTIZED_MAGNITUDE - 1n]);
  });
});
