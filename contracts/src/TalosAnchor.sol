// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title TalosAnchor
/// @notice The talos trust anchor on an EVM chain: DID claims, capability commitments,
/// permanent revocations and audit roots (RFC 9162 tree heads), each with an event. An
/// account writes only for its own claims; a consortium may also restrict writers to an
/// allow-list. Owners without gas sign EIP-712 meta-transactions that anyone relays.
/// @dev DIDs are keyed by `bytes32 did = sha256(did string)`, computed off-chain.
///
/// Why claims, and not one owner per DID. A DID's authority is its Ed25519 key, and the
/// EVM has no Ed25519 precompile: a Solidity verifier costs upwards of a million gas per
/// signature. With one owner per DID, first come first served, anyone could
/// `register(sha256(victim's DID))` first: verifiers would trust the squatter's roots and
/// revocations, and the victim could never register. Letting a later, properly bound
/// registration replace an earlier one does not work either: the contract cannot tell
/// bound from unbound, so it cannot decide who may replace whom. So:
///
/// - Every registration is a claim `(did, owner)`; any number of accounts may claim the
///   same DID, each once. A claim's document versions, roots, commitments and revocations
///   are keyed by the claim, so a squatter's writes never mix with the owner's and nobody
///   can occupy the owner's slot.
/// - A claim carries an owner binding: the DID's Ed25519 public key (32 bytes) and its
///   signature (64 bytes) over `ownerStatement(did, owner)` = "talos-evm-owner-v1" ‖
///   chainid ‖ this contract ‖ did ‖ owner. It is emitted in `DidRegistered`, not stored
///   (three more slots, ~66k gas, for data only off-chain verifiers read). The contract
///   checks only its length: it cannot check the signature.
/// - Verifiers check the binding off chain (the key is the DID's, the signature verifies
///   strictly) and treat a claim whose binding does not verify as not registered: they
///   ignore its roots, commitments and revocations.
///
/// A DID changes account by a new claim (the new account registers with a binding the
/// DID's key signed for it) and the old claim's deactivation. Meta-transactions follow
/// ERC-2771: the contract calls itself with the signer appended to the calldata.
contract TalosAnchor {
    /// @dev One slot per claim, so an audit-root anchor touches a single cold slot:
    /// version (4 bytes; 0 = no such claim) | treeSize (7) | deactivated (1).
    struct Claim {
        uint32 version;
        uint56 treeSize;
        bool deactivated;
    }

    struct DidDocument {
        bytes32 docHash;
        bytes32 prevHash;
    }

    bytes32 private constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant META_TX_TYPEHASH =
        keccak256("MetaTransaction(address signer,bytes data,uint256 nonce,uint256 deadline)");
    bytes32 private constant NAME_HASH = keccak256("TalosAnchor");
    bytes32 private constant VERSION_HASH = keccak256("1");
    /// @dev secp256k1n / 2: signatures with a larger s are the malleable twin (EIP-2).
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    /// @dev Batches are bounded so that one call stays well inside a block.
    uint256 public constant MAX_BATCH = 512;
    /// @notice An owner binding: Ed25519 public key (32 bytes) ‖ signature (64 bytes).
    uint256 public constant BINDING_LENGTH = 96;
    /// @dev Domain tag of the statement a DID's key signs to bind an owner account.
    string private constant OWNER_TAG = "talos-evm-owner-v1";

    /// @dev All per-claim state is keyed by `_claimKey(did, owner)`.
    mapping(bytes32 claim => Claim) private _claims;
    mapping(bytes32 claim => DidDocument) private _docs;
    /// @dev The latest anchored root per claim. Earlier roots live in `RootAnchored`
    /// events (in the chain's receipts): a storage slot per anchor would cost 20k gas more
    /// each. Registration stores `NO_ROOT` here so that every anchor, the first included,
    /// rewrites a non-zero slot instead of creating one.
    mapping(bytes32 claim => bytes32 root) private _latestRoot;
    bytes32 private constant NO_ROOT = bytes32(uint256(1));
    /// @dev Per claim, not first writer wins across claims: a global "first committer" or
    /// "first revoker" could be taken by a squatter racing the owner's transaction.
    /// Values are 1 (set) or 0: a full word, since writing a `bool` first reads its slot.
    mapping(bytes32 claim => mapping(bytes32 commitment => uint256)) private _committed;
    /// @dev Permanent: nothing unsets an entry.
    mapping(bytes32 claim => mapping(bytes32 id => uint256)) private _revoked;
    /// @notice EIP-712 meta-transaction nonces, per signer.
    mapping(address signer => uint256) public nonces;
    /// @notice Writers allowed when the allow-list is on.
    mapping(address writer => bool) public isWriter;

    /// @notice The consortium administrator (manages the allow-list only).
    address public admin;
    /// @notice Whether only allow-listed accounts may write.
    bool public allowListEnabled;

    event DidRegistered(bytes32 indexed did, address indexed owner, bytes32 docHash, bytes binding);
    event DidRotated(bytes32 indexed did, address indexed owner, uint32 version, bytes32 docHash, bytes32 prevHash);
    event DidDeactivated(bytes32 indexed did, address indexed owner, uint32 version);
    event Committed(bytes32 indexed did, address indexed owner, bytes32[] commitments);
    event Revoked(bytes32 indexed did, address indexed owner, bytes32[] ids);
    event RootAnchored(bytes32 indexed did, address indexed owner, uint256 treeSize, bytes32 root);
    event WriterSet(address indexed writer, bool allowed);
    event AllowListSet(bool enabled);
    event AdminTransferred(address indexed admin);

    error ClaimExists(bytes32 did, address owner);
    error UnknownClaim(bytes32 did, address owner);
    error Deactivated(bytes32 did, address owner);
    error BadBinding(uint256 length);
    error NotWriter(address sender);
    error NotAdmin(address sender);
    error ZeroAddress();
    error EmptyBatch();
    error BatchTooLarge(uint256 len);
    error TreeSizeShrinks(bytes32 did, uint256 current, uint256 given);
    error ConflictingRoot(bytes32 did, uint256 treeSize);
    error TreeSizeTooLarge(uint256 given);
    error InvalidRoot();
    error Expired(uint256 deadline);
    error BadNonce(uint256 expected, uint256 given);
    error BadSignature();
    error MalleableSignature();
    error MetaCallFailed();

    constructor(address admin_, bool allowList_) {
        if (admin_ == address(0)) revert ZeroAddress();
        admin = admin_;
        allowListEnabled = allowList_;
        emit AdminTransferred(admin_);
        emit AllowListSet(allowList_);
    }

    // ---------------------------------------------------------------- senders and access

    /// @dev ERC-2771: when the contract calls itself from `executeMeta`, the verified
    /// signer is the last 20 bytes of the calldata.
    function _sender() internal view returns (address s) {
        if (msg.sender == address(this) && msg.data.length >= 24) {
            assembly {
                s := shr(96, calldataload(sub(calldatasize(), 20)))
            }
        } else {
            s = msg.sender;
        }
    }

    function _checkWriter(address s) internal view {
        if (allowListEnabled && !isWriter[s]) revert NotWriter(s);
    }

    /// @dev keccak256(abi.encode(did, owner)), hashed in the scratch space (no memory
    /// allocation); the mask cleans the address's unused high bits.
    function _claimKey(bytes32 did, address owner) internal pure returns (bytes32 k) {
        assembly ("memory-safe") {
            mstore(0x00, did)
            mstore(0x20, and(owner, 0xffffffffffffffffffffffffffffffffffffffff))
            k := keccak256(0x00, 0x40)
        }
    }

    /// @dev Loads the sender's claim on `did`, which must exist and be active.
    function _owned(bytes32 did) internal view returns (bytes32 k, Claim memory c, address s) {
        s = _sender();
        k = _claimKey(did, s);
        c = _claims[k];
        if (c.version == 0) revert UnknownClaim(did, s);
        if (c.deactivated) revert Deactivated(did, s);
        _checkWriter(s);
    }

    // ---------------------------------------------------------------- DID claims

    /// @notice The statement a DID's Ed25519 key signs to bind `owner` to `did` on this
    /// contract: "talos-evm-owner-v1" ‖ chainid (32 bytes) ‖ this contract (20) ‖ did
    /// (32) ‖ owner (20), 122 bytes. Verifiers rebuild it off chain; it is here so that
    /// every client can check its encoding against the contract's.
    function ownerStatement(bytes32 did, address owner) external view returns (bytes memory) {
        return abi.encodePacked(OWNER_TAG, block.chainid, address(this), did, owner);
    }

    /// @notice Registers the sender's claim on `did` at version 1. `binding` is the DID
    /// key's owner binding (public key ‖ signature over `ownerStatement(did, sender)`);
    /// only its length is checked here, verifiers check the rest (see the contract docs).
    function register(bytes32 did, bytes32 docHash, bytes calldata binding) external {
        address s = _sender();
        _checkWriter(s);
        if (binding.length != BINDING_LENGTH) revert BadBinding(binding.length);
        bytes32 k = _claimKey(did, s);
        if (_claims[k].version != 0) revert ClaimExists(did, s);
        _claims[k] = Claim({version: 1, treeSize: 0, deactivated: false});
        // prevHash stays zero: writing it would cost a cold access for nothing.
        _docs[k].docHash = docHash;
        _latestRoot[k] = NO_ROOT;
        emit DidRegistered(did, s, docHash, binding);
    }

    /// @notice A new document version of the sender's claim on `did`; its `prevHash` is
    /// the current document hash.
    function rotate(bytes32 did, bytes32 newDocHash) external {
        (bytes32 k, Claim memory c, address s) = _owned(did);
        bytes32 prev = _docs[k].docHash;
        c.version += 1;
        _claims[k] = c;
        _docs[k] = DidDocument({docHash: newDocHash, prevHash: prev});
        emit DidRotated(did, s, c.version, newDocHash, prev);
    }

    /// @notice Deactivates the sender's claim on `did`: it takes no further writes.
    function deactivate(bytes32 did) external {
        (bytes32 k, Claim memory c, address s) = _owned(did);
        c.deactivated = true;
        _claims[k] = c;
        emit DidDeactivated(did, s, c.version);
    }

    /// @notice The claim of `owner` on `did` (version 0 if there is none).
    function resolve(bytes32 did, address owner)
        external
        view
        returns (uint32 version, bytes32 docHash, bytes32 prevHash, bool deactivated)
    {
        bytes32 k = _claimKey(did, owner);
        Claim memory c = _claims[k];
        DidDocument memory d = _docs[k];
        return (c.version, d.docHash, d.prevHash, c.deactivated);
    }

    // ---------------------------------------------------------------- commitments, revocations

    /// @notice Records capability commitments issued under the sender's claim on `did`.
    /// Recording one again changes nothing, so a resubmitted batch is harmless.
    function commit(bytes32 did, bytes32[] calldata commitments) external {
        (bytes32 k,, address s) = _owned(did);
        _checkBatch(commitments.length);
        mapping(bytes32 => uint256) storage done = _committed[k];
        for (uint256 i; i < commitments.length; ++i) {
            done[commitments[i]] = 1;
        }
        emit Committed(did, s, commitments);
    }

    /// @notice Revokes capability ids under the sender's claim on `did`, permanently.
    function revoke(bytes32 did, bytes32[] calldata ids) external {
        (bytes32 k,, address s) = _owned(did);
        _checkBatch(ids.length);
        mapping(bytes32 => uint256) storage done = _revoked[k];
        for (uint256 i; i < ids.length; ++i) {
            done[ids[i]] = 1;
        }
        emit Revoked(did, s, ids);
    }

    /// @notice Whether `owner`'s claim on `did` committed `commitment`.
    function isCommitted(bytes32 did, address owner, bytes32 commitment) external view returns (bool) {
        return _committed[_claimKey(did, owner)][commitment] != 0;
    }

    /// @notice Whether `owner`'s claim on `did` revoked `id`.
    function isRevoked(bytes32 did, address owner, bytes32 id) external view returns (bool) {
        return _revoked[_claimKey(did, owner)][id] != 0;
    }

    function _checkBatch(uint256 len) internal pure {
        if (len == 0) revert EmptyBatch();
        if (len > MAX_BATCH) revert BatchTooLarge(len);
    }

    // ---------------------------------------------------------------- audit roots

    /// @notice Anchors the audit-log tree head (`treeSize`, `root`) of the sender's claim
    /// on `did`. The size never shrinks; re-anchoring the latest head is a no-op
    /// (idempotent resubmission); a different root at the latest size is refused.
    /// History: the `RootAnchored` events.
    function anchorRoot(bytes32 did, uint256 treeSize, bytes32 root) external {
        (bytes32 k, Claim memory c, address s) = _owned(did);
        if (root == bytes32(0) || root == NO_ROOT) revert InvalidRoot();
        if (treeSize > type(uint56).max) revert TreeSizeTooLarge(treeSize);
        if (treeSize < c.treeSize) revert TreeSizeShrinks(did, c.treeSize, treeSize);
        if (treeSize == c.treeSize) {
            bytes32 latest = _latestRoot[k];
            if (latest == root) return;
            if (latest != NO_ROOT) revert ConflictingRoot(did, treeSize);
        }
        _latestRoot[k] = root;
        // forge-lint: disable-next-line(unsafe-typecast)
        c.treeSize = uint56(treeSize); // checked against type(uint56).max above
        _claims[k] = c;
        emit RootAnchored(did, s, treeSize, root);
    }

    /// @notice The latest tree head `owner`'s claim on `did` anchored; (0, 0) before the
    /// first anchor or without a claim.
    function latestRoot(bytes32 did, address owner) external view returns (uint256 treeSize, bytes32 root) {
        bytes32 k = _claimKey(did, owner);
        root = _latestRoot[k];
        if (root == NO_ROOT) return (0, bytes32(0));
        treeSize = _claims[k].treeSize;
    }

    // ---------------------------------------------------------------- allow-list admin

    function _onlyAdmin() internal view {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
    }

    /// @notice Adds or removes an allow-listed writer.
    function setWriter(address writer, bool allowed) external {
        _onlyAdmin();
        isWriter[writer] = allowed;
        emit WriterSet(writer, allowed);
    }

    /// @notice Turns the allow-list on or off.
    function setAllowList(bool enabled) external {
        _onlyAdmin();
        allowListEnabled = enabled;
        emit AllowListSet(enabled);
    }

    /// @notice Hands the admin role to another account.
    function transferAdmin(address next) external {
        _onlyAdmin();
        if (next == address(0)) revert ZeroAddress();
        admin = next;
        emit AdminTransferred(next);
    }

    // ---------------------------------------------------------------- EIP-712 meta-transactions

    /// @notice The EIP-712 domain separator (chain id and this contract's address included).
    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(EIP712_DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    /// @notice The digest a signer signs for a meta-transaction.
    function metaTxDigest(address signer, bytes calldata data, uint256 nonce, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(META_TX_TYPEHASH, signer, keccak256(data), nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    /// @notice Runs `data` (a call to one of this contract's write functions) as `signer`,
    /// who signed it; anyone may relay. The nonce must be the signer's next one.
    function executeMeta(
        address signer,
        bytes calldata data,
        uint256 nonce,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > deadline) revert Expired(deadline); // deadlines are coarse
        uint256 expected = nonces[signer];
        if (nonce != expected) revert BadNonce(expected, nonce);
        if (uint256(s) > HALF_ORDER) revert MalleableSignature();
        if (v != 27 && v != 28) revert BadSignature();
        address recovered = ecrecover(metaTxDigest(signer, data, nonce, deadline), v, r, s);
        if (recovered == address(0) || recovered != signer) revert BadSignature();
        nonces[signer] = expected + 1;
        (bool ok, bytes memory ret) = address(this).call(abi.encodePacked(data, signer));
        if (!ok) {
            // Bubble the inner custom error up unchanged, so callers see the real reason.
            if (ret.length == 0) revert MetaCallFailed();
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }
}
