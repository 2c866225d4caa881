#!/usr/bin/env node
// `npm run bench -- ingest [--reports N] [--summary N] [--runs N] [--ingest-runs N] [--pg URL|--no-pg]`
//
// 1. N generated TLS reports (default 20 000; realistic sizes, a fifth with failure details)
//    as .json.gz files: reports/s merely reading + gunzipping + JSON-parsing them, next to
//    reports/s ingested into SQLite and into PostgreSQL, in the same run, and the ratio.
//    Targets: >= 5 000 reports/s into SQLite, within 5x of the parse-only rate.
// 2. `reports summary` over M stored reports (default 1 000 000, loaded directly), median of
//    several runs. Target: under 500 ms on SQLite.
//
// PostgreSQL: --pg URL, else MTA_STS_TEST_PG_URL, else a throw-away local server if installed.
// The library is TypeScript: tsx loads it in-process.
import { register } from 'tsx/esm/api';

register();
await import('./ingest-main.ts');
