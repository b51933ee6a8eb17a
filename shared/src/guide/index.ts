// The decision guide (issue 15, item 4), exported as `@transport-lab/shared/guide` rather than from the
// package's index: its zod schema is built when the module loads, which the bundler must keep as a side
// effect, so re-exported from the index it joined a phone's first load (+0.3 kB gzipped) although only
// the lazily loaded guide view uses it (scripts/bundle-budget.mjs, docs/architecture.md).
export * from './answers.ts';
export * from './prove.ts';
export * from './rank.ts';
export * from './record.ts';
export * from './safeguards.ts';
