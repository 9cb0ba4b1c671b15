export { createExplorerServer, type ExplorerOptions } from "./server.ts";
export { readSnapshot, SECTIONS, statusOf, stepTiers, type Snapshot, type Section, type SectionLoader, type ExplorerContext, type Cell } from "./state.ts";
export { escapeHtml, explorerPage } from "./page.ts";
