import { opgSystemModule } from "../../src/ignition/system.ts";

/**
 * The whole system, with the contracts compiled in this project (see src/ignition/system.ts for the
 * parameters; a dependent project uses `opg-verifier/ignition`, which carries the packaged artifacts).
 */
export default opgSystemModule();
