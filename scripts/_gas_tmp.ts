import { network } from "hardhat";
import { benchRequestGas } from "./bench/requests.ts";
import { demoHead } from "./demo/zk.ts";
const head = await demoHead(console.log);
console.log(JSON.stringify(await benchRequestGas(await network.create(), head)));
