// The public API of mta-sts-kit.
export * from './core/domain.js';
export * from './core/findings.js';
export * from './core/lint.js';
export * from './core/mx-pattern.js';
export * from './core/sts-policy.js';
export * from './core/sts-record.js';
export * from './core/tlsrpt-record.js';
export type * from './ports.js';
export { systemClock } from './ports.js';
export * from './core/certificate.js';
