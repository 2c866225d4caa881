// The simulator's authoritative data: records built from a scenario, and the answer an
// authoritative server gives for one question (NXDOMAIN vs NODATA, CNAMEs, the AA bit).
import type { Answer, RecordType } from 'dns-packet';

export type SimRecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'CNAME' | 'SOA';

export type SimRecord =
  | { type: 'A' | 'AAAA' | 'CNAME'; data: string }
  | { type: 'MX'; data: { preference: number; exchange: string } }
  | { type: 'TXT'; data: string[] }
  | { type: 'SOA'; data: { mname: string; rname: string; serial: number; minimum: number } };

export type DnsFaultKind = 'servfail' | 'timeout' | 'nxdomain' | 'refused';

export interface ZoneFault {
  name: string;
  type?: string;
  fault: DnsFaultKind;
}

export const SIM_TTL = 300;
const MAX_CNAME_HOPS = 8;

/** What the server should send: nothing (a simulated timeout) or a response body. */
export type ZoneReply =
  | { drop: true }
  | {
      drop: false;
      rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';
      authoritative: boolean;
      answers: Answer[];
      authorities: Answer[];
    };

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Split a long TXT string into character-strings of at most 255 bytes (never inside a UTF-8 character). */
export function splitTxt(text: string): string[] {
  if (Buffer.byteLength(text) <= 255) return [text];
  const parts: string[] = [];
  let part = '';
  let size = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (size + n > 255) {
      parts.push(part);
      part = '';
      size = 0;
    }
    part += ch;
    size += n;
  }
  parts.push(part);
  return parts;
}

export class SimZoneData {
  private readonly records = new Map<string, SimRecord[]>();
  private readonly zones = new Set<string>();
  private readonly faults: ZoneFault[] = [];

  addZone(apex: string): void {
    this.zones.add(normalize(apex));
  }

  add(name: string, record: SimRecord): void {
    const key = normalize(name);
    const list = this.records.get(key) ?? [];
    list.push(record);
    this.records.set(key, list);
  }

  addFault(fault: ZoneFault): void {
    this.faults.push({ ...fault, name: normalize(fault.name) });
  }

  /** Make sure every owner name sits in some zone: names outside all zones get their parent as a zone. */
  closeZones(): void {
    for (const name of this.records.keys()) {
      if (this.findZone(name) === undefined) {
        const dot = name.indexOf('.');
        this.zones.add(dot > 0 ? name.slice(dot + 1) : name);
      }
    }
  }

  findZone(name: string): string | undefined {
    const n = normalize(name);
    let best: string | undefined;
    for (const zone of this.zones) {
      if ((n === zone || n.endsWith(`.${zone}`)) && (best === undefined || zone.length > best.length))
        best = zone;
    }
    return best;
  }

  /** A name exists if it owns records or is an empty non-terminal above a name that does. */
  private exists(name: string): boolean {
    if (this.records.has(name)) return true;
    const suffix = `.${name}`;
    for (const owner of this.records.keys()) if (owner.endsWith(suffix)) return true;
    return this.zones.has(name);
  }

  private soa(zone: string): Answer {
    return {
      name: zone,
      type: 'SOA',
      ttl: SIM_TTL,
      data: { mname: `ns.${zone}`, rname: `hostmaster.${zone}`, serial: 1, minimum: SIM_TTL },
    };
  }

  private toAnswer(name: string, record: SimRecord): Answer {
    return { name, type: record.type as RecordType, ttl: SIM_TTL, data: record.data } as Answer;
  }

  answer(qname: string, qtype: string): ZoneReply {
    const name = normalize(qname);
    const fault = this.faults.find((f) => f.name === name && (f.type === undefined || f.type === qtype));
    const zone = this.findZone(name);
    if (fault?.fault === 'timeout') return { drop: true };
    if (fault?.fault === 'servfail' || fault?.fault === 'refused') {
      const rcode = fault.fault === 'servfail' ? 'SERVFAIL' : 'REFUSED';
      return { drop: false, rcode, authoritative: false, answers: [], authorities: [] };
    }
    if (zone === undefined) {
      return { drop: false, rcode: 'REFUSED', authoritative: false, answers: [], authorities: [] };
    }
    if (fault?.fault === 'nxdomain') {
      return {
        drop: false,
        rcode: 'NXDOMAIN',
        authoritative: true,
        answers: [],
        authorities: [this.soa(zone)],
      };
    }

    const answers: Answer[] = [];
    let current = name;
    const seen = new Set<string>([current]);
    for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
      const owned = this.records.get(current) ?? [];
      const cname = owned.find((r) => r.type === 'CNAME');
      if (cname && qtype !== 'CNAME' && cname.type === 'CNAME') {
        answers.push(this.toAnswer(current, cname));
        const target = normalize(cname.data);
        // RFC 1034 §4.3.2: follow the alias only while we are authoritative for the target
        // (same zone); a cross-zone target is left to the resolver.
        if (seen.has(target) || this.findZone(target) !== zone) {
          return { drop: false, rcode: 'NOERROR', authoritative: true, answers, authorities: [] };
        }
        seen.add(target);
        current = target;
        continue;
      }
      const matching = owned.filter((r) => r.type === qtype);
      if (matching.length > 0) {
        for (const r of matching) answers.push(this.toAnswer(current, r));
        return { drop: false, rcode: 'NOERROR', authoritative: true, answers, authorities: [] };
      }
      const rcode = this.exists(current) ? 'NOERROR' : 'NXDOMAIN';
      return { drop: false, rcode, authoritative: true, answers, authorities: [this.soa(zone)] };
    }
    return { drop: false, rcode: 'SERVFAIL', authoritative: false, answers: [], authorities: [] };
  }
}
