// Usage: node verify.mjs FILE|-
// Verifies only the eddsa-jcs-2022 DataIntegrityProof (assertionMethod, key
// from the did:key in verificationMethod). Credential semantics (type,
// validity period, issuer == controller) are deliberately NOT checked: the
// point is to compare the proof check alone with our Rust implementation.
// Exit: 0 verified, 1 not verified, 2 unreadable input.
import fs from 'node:fs';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from
  '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import jsigs from 'jsonld-signatures';
import {documentLoader} from './loader.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;

const path = process.argv[2];
if(!path) {
  console.error('usage: node verify.mjs FILE|-');
  process.exit(2);
}
let credential;
try {
  credential = JSON.parse(fs.readFileSync(path === '-' ? 0 : path, 'utf8'));
  if(credential === null || typeof credential !== 'object' ||
    Array.isArray(credential)) {
    throw new TypeError('input is not a JSON object');
  }
} catch(e) {
  console.error(`unreadable input: ${e.message}`);
  process.exit(2);
}

const result = await jsigs.verify(credential, {
  suite: new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()}),
  purpose: new AssertionProofPurpose(),
  documentLoader
});
if(result.verified) {
  process.exit(0);
}
// jsigs wraps the real causes in a VerificationError (`errors` array);
// print those, since the wrapper's own message says nothing.
const errors = [].concat(result.error?.errors ?? result.error ?? []);
for(const e of errors) {
  console.error(`not verified: ${e?.name}: ${e?.message}`);
}
process.exit(1);
