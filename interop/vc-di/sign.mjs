// Usage: node sign.mjs SUBJECT_DID
// Prints one TalosAttestation credential secured with an eddsa-jcs-2022
// DataIntegrityProof made by a fresh Ed25519 did:key (an issuer our Rust code
// has never seen, so the Rust verifier must resolve the did:key itself).
import crypto from 'node:crypto';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createSignCryptosuite} from
  '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import jsigs from 'jsonld-signatures';
import {documentLoader} from './loader.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;

const subject = process.argv[2];
if(!subject || !subject.startsWith('did:')) {
  console.error('usage: node sign.mjs SUBJECT_DID');
  process.exit(2);
}

// RFC 3339 UTC with whole seconds: the library formats `created` the same
// way, so created == validFrom exactly.
const rfc3339 = date => date.toISOString().slice(0, 19) + 'Z';
const now = new Date();
const validFrom = rfc3339(now);
const validUntil = rfc3339(new Date(now.getTime() + 24 * 3600 * 1000));
const hex32 = () => crypto.randomBytes(32).toString('hex');

// Fresh key. The DID is only known once the key exists, so re-import it with
// the did:key verification method id (did#multibase) that the signer stamps
// into proof.verificationMethod.
const probe = await Ed25519Multikey.generate();
const did = `did:key:${probe.publicKeyMultibase}`;
const keyPair = await Ed25519Multikey.from({
  ...(await probe.export({publicKey: true, secretKey: true})),
  id: `${did}#${probe.publicKeyMultibase}`,
  controller: did
});

const credential = {
  '@context': ['https://www.w3.org/ns/credentials/v2'],
  id: `urn:uuid:${crypto.randomUUID()}`,
  type: ['VerifiableCredential', 'TalosAttestation'],
  issuer: did,
  validFrom,
  validUntil,
  credentialSubject: {
    id: subject,
    binarySha256: hex32(),
    configSha256: hex32(),
    model: 'js-model',
    policySha256: hex32()
  }
};

const suite = new DataIntegrityProof({
  signer: keyPair.signer(),
  date: validFrom,
  cryptosuite: createSignCryptosuite()
});

// addSuiteContext: false makes jsonld-signatures throw instead of silently
// appending the data-integrity context to @context (the VC v2 context already
// covers DataIntegrityProof, so nothing is added either way today).
const signed = await jsigs.sign(credential, {
  suite,
  purpose: new AssertionProofPurpose(),
  documentLoader,
  addSuiteContext: false
});
process.stdout.write(JSON.stringify(signed) + '\n');
