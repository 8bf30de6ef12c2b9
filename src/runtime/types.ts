// The data the embedded evaluator takes and gives (SPEC 2 and 5). Types only.

/** The subject part of a request, as JSON (SPEC 2). */
export interface SubjectJson {
  exe: string;
  uid: number;
  gid: number;
  label?: string;
  holds?: string[];
}

/** The enclave part of a request, as JSON: the five identity fields, or a SIGSTRUCT. */
export type EnclaveJson =
  | {
      mrenclave: string;
      mrsigner: string;
      isvprodid: number;
      isvsvn: number;
      attributes?: string[] | string;
    }
  | { sigstruct: string };

/** A request as JSON (SPEC 2). `decide` accepts `unknown` and validates it. */
export interface RequestJson {
  subject: SubjectJson;
  action?: 'einit';
  via?: 'host' | 'kvm';
  enclave: EnclaveJson;
}

/** A subject after validation. `holds` keeps the request's order; duplicates are harmless. */
export interface NormalizedSubject {
  exe: string;
  uid: number;
  gid: number;
  label: string | undefined;
  holds: string[];
}

/** An enclave identity after validation: measurements lower-case, attributes as flag bits. */
export interface NormalizedEnclave {
  mrenclave: string;
  mrsigner: string;
  isvprodid: number;
  isvsvn: number;
  /** The low 32 bits of the ATTRIBUTES flags (every named attribute lives there), unsigned. */
  attributeBits: number;
  /** The full 64-bit ATTRIBUTES flags as 16 lower-case hex digits. */
  attributesHex: string;
}

export interface NormalizedRequest {
  subject: NormalizedSubject;
  action: 'einit';
  via: 'host' | 'kvm';
  enclave: NormalizedEnclave;
}

/** The outcome of validating a request: a normalized request, or why it is invalid. */
export type RequestCheck = { ok: true; request: NormalizedRequest } | { ok: false; reason: string };

/** A decision (SPEC 5). */
export interface Decision {
  decision: 'allow' | 'deny';
  /** `FILE:LINE` of the deciding rule, `"default"`, `"builtin:provisionkey"`, or null for an invalid request. */
  rule: string | null;
  audit: boolean;
  reason: string;
}

/** Attribute names and their bit in the ATTRIBUTES flags (SPEC 2). */
export const ATTRIBUTE_BITS = {
  init: 0,
  debug: 1,
  mode64bit: 2,
  provisionkey: 4,
  einittokenkey: 5,
  cet: 6,
  kss: 7,
  aexnotify: 10,
} as const;

export type AttributeBitName = keyof typeof ATTRIBUTE_BITS;

export const PROVISION_DEVICE = '/dev/sgx_provision';
