// The public API of mta-sts-kit.

export * from './core/certificate.js';
export * from './core/domain.js';
export * from './core/findings.js';
export * from './core/lint.js';
export * from './core/mx-pattern.js';
export * from './core/policy-cache.js';
export * from './core/policy-fetch-verdict.js';
export * from './core/socketmap.js';
export * from './core/sts-policy.js';
export * from './core/sts-record.js';
export * from './core/tlsrpt-record.js';
export {
  chooseCountedPolicies,
  DEFAULT_TLSRPT_LIMITS,
  normaliseTlsrptReport,
  parseFailureReason,
  parseTlsrptReport,
  TLSRPT_RESULT_TYPES,
  type TlsrptFailureDetail,
  type TlsrptLimits,
  type TlsrptPolicy,
  type TlsrptReport,
} from './core/tlsrpt-report.js';
export {
  type ConnectTarget,
  ConnectToError,
  formatConnectTo,
  parseConnectTo,
  resolveConnectTarget,
} from './node/connect-to.js';
export { createDnsResolver, DnsConfigError, type DnsResolverOptions, parseDnsServer } from './node/dns.js';
export {
  createPolicyFetcher,
  DEFAULT_POLICY_MAX_BYTES,
  type PolicyFetcherOptions,
} from './node/policy-fetch.js';
export { createSmtpProber, type SmtpProberOptions } from './node/smtp-probe.js';
export { peerInfo, summarizeCertificate, type TrustOptions, trustAnchors } from './node/tls-info.js';
export type * from './ports.js';
export { systemClock } from './ports.js';
export { type DemoDomain, type DemoReportOptions, generateDemoReports } from './reports/demo-reports.js';
export { DEFAULT_EXTRACT_LIMITS, type ExtractLimits, extractReports } from './reports/extract.js';
export { type ImapIngestOptions, type ImapTarget, ingestImap, parseImapUrl } from './reports/imap.js';
export {
  type IngestCounts,
  type IngestItemResult,
  type IngestOutcome,
  ingestBytes,
  ingestPaths,
  ingestReportObjects,
} from './reports/ingest.js';
export { isPostgresUrl, KyselyReportStore, openReportStore, resolveDbUrl } from './reports/store.js';
export type {
  FailureRow,
  IngestStatus,
  ReportFilter,
  ReportListItem,
  ReportSummary,
  SessionCounts,
  StoredPolicy,
  StoredReport,
  StoreMeta,
  StoreResult,
} from './reports/types.js';
export {
  loadResolverConfig,
  parseResolverConfigYaml,
  type ResolverConfig,
  ResolverConfigError,
  readResolverConfig,
  type ZoneConfig,
} from './resolver/config.js';
export { type ResolverDaemon, startResolverDaemon } from './resolver/daemon.js';
export {
  discoverRecord,
  fetchAndParse,
  PolicyResolver,
  type PolicyResolverOptions,
  type Resolution,
  type ResolverNetwork,
} from './resolver/policy-resolver.js';
export { type PolicyQueryResult, queryPolicy } from './resolver/query.js';
export { type SocketmapServer, startSocketmapServer } from './resolver/socketmap-server.js';
export { MemoryPolicyStore } from './resolver/stores/memory.js';
export { RedisPolicyStore } from './resolver/stores/redis.js';
export { SqlitePolicyStore } from './resolver/stores/sqlite.js';
export { type ClientInfo, createHttpHandler, createHttpsHandler, type ReceiverMount } from './server/app.js';
export { createDashboardHandler, type DashboardOptions } from './server/dashboard/dashboard.js';
export { enforceReadiness, type Readiness } from './server/dashboard/overview-model.js';
export {
  DEFAULT_DASHBOARD_LISTEN,
  type ListenAddress,
  parseListenAddress,
  type RunningServe,
  type ServeOptions,
  startServe,
} from './server/listen.js';
export {
  buildPolicyTable,
  type HostedPolicy,
  type PolicyTable,
  servePolicyHost,
} from './server/policy-host.js';
export { renewalDue } from './server/renewal.js';
export { chooseCertificate as chooseServeCertificate } from './server/sni.js';
export { createTlsrptReceiver, type TlsrptReceiverOptions } from './server/tlsrpt-receiver.js';
export * from './setup/config.js';
export * from './setup/model.js';
export { type MxProposal, proposeMxPatterns } from './setup/mx-proposal.js';
export { formatPolicyId, nextPolicyId, parsePolicyId } from './setup/policy-id.js';
export * from './setup/records.js';
export {
  generateSite,
  indexHtml,
  POLICY_PATH as SITE_POLICY_PATH,
  type SiteFiles,
  type SiteOptions,
} from './setup/site.js';
export { parseSiteState, type SiteState, STATE_FILE, StateError, serializeSiteState } from './setup/state.js';
export * from './setup/workflow.js';
export { demoScenario } from './sim/demo-scenario.js';
export {
  loadScenarioFile,
  parseScenario,
  parseScenarioYaml,
  type Scenario,
  ScenarioError,
  type ScenarioInput,
} from './sim/scenario.js';
export { type SimHost, type Simulation, type SimulationOptions, startSimulation } from './sim/simulation.js';
