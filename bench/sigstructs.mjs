// SIGSTRUCT requests for the benchmark: each request's enclave replaced by a freshly signed
// SIGSTRUCT (so the first decision pays SHA-256 + RSA verification) and the same ones again
// (so a repeat pays the cache lookup).
import { makeSigstruct, toBase64 } from '../dist/testing/sigstruct-signer.js';

export function sigstructRequests(requests) {
  const fresh = requests.map((r, i) => ({
    subject: r.subject,
    via: r.via,
    // A distinct ISVSVN each, so that no "fresh" SIGSTRUCT repeats an earlier one (signing is
    // deterministic) and hits the cache.
    enclave: { sigstruct: toBase64(makeSigstruct({ isvprodid: r.enclave.isvprodid, isvsvn: i })) },
  }));
  const repeated = fresh.map((r) => ({ ...r }));
  return { fresh, repeated };
}
