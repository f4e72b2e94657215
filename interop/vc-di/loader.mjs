// Offline JSON-LD document loader shared by sign.mjs and verify.mjs.
//
// Serves the VC contexts from the pinned @digitalbazaar/credentials-context
// package and resolves did:key (Ed25519 only) by itself; every other URL is
// refused so a test can never silently depend on the network.
//
// Note: the eddsa-jcs-2022 path never expands JSON-LD, so in practice only the
// did:key URLs are requested; the contexts are served so the loader stays
// correct if a JSON-LD operation is ever added.
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {contexts as vcContexts} from '@digitalbazaar/credentials-context';

const DID_KEY_PREFIX = 'did:key:';
const DID_CONTEXT_V1 = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_CONTEXT_V1 = 'https://w3id.org/security/multikey/v1';

// Build the Multikey verification method of a did:key. Ed25519Multikey.from
// decodes publicKeyMultibase and rejects anything that is not an Ed25519
// public key (multicodec 0xed01, i.e. "z6Mk..."), so malformed DIDs fail here.
async function didKeyVerificationMethod(did) {
  const publicKeyMultibase = did.slice(DID_KEY_PREFIX.length);
  if(!publicKeyMultibase.startsWith('z6Mk')) {
    throw new Error(`Unsupported did:key (not Ed25519): ${did}`);
  }
  const key = await Ed25519Multikey.from({
    '@context': MULTIKEY_CONTEXT_V1,
    type: 'Multikey',
    id: `${did}#${publicKeyMultibase}`,
    controller: did,
    publicKeyMultibase
  });
  return key.export({publicKey: true, includeContext: true});
}

export async function documentLoader(url) {
  if(vcContexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: vcContexts.get(url)};
  }
  if(typeof url === 'string' && url.startsWith(DID_KEY_PREFIX)) {
    const [did, fragment, ...rest] = url.split('#');
    const vm = await didKeyVerificationMethod(did);
    // did:key has exactly one key, whose fragment is its multibase value.
    if(rest.length > 0 ||
      (fragment !== undefined && `${did}#${fragment}` !== vm.id)) {
      throw new Error(`Unknown did:key verification method: ${url}`);
    }
    if(fragment !== undefined) {
      return {contextUrl: null, documentUrl: url, document: vm};
    }
    // The controller document. Its @context must start with the DID v1 URL:
    // jsonld-signatures then reads `assertionMethod` directly instead of
    // JSON-LD framing it (which would need the DID and Multikey contexts).
    const {'@context': _ignored, ...vmNoContext} = vm;
    const didDocument = {
      '@context': [DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1],
      id: did,
      verificationMethod: [vmNoContext],
      assertionMethod: [vm.id],
      authentication: [vm.id]
    };
    return {contextUrl: null, documentUrl: url, document: didDocument};
  }
  throw new Error(`Offline document loader refuses to load "${url}".`);
}
