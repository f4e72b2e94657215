// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {TalosAnchor} from "../src/TalosAnchor.sol";
import {Test} from "./utils/Test.sol";

contract TalosAnchorTest is Test {
    TalosAnchor internal a;
    address internal constant ADMIN = address(0xAD);
    uint256 internal constant ALICE_KEY = 0xA11CE;
    address internal alice;
    address internal constant BOB = address(0xB0B);
    bytes32 internal constant DID = keccak256("did:key:z6MkAlice");

    event RootAnchored(bytes32 indexed did, address indexed owner, uint256 treeSize, bytes32 root);
    event Revoked(bytes32 indexed did, address indexed owner, bytes32[] ids);
    event DidRegistered(bytes32 indexed did, address indexed owner, bytes32 docHash, bytes binding);

    function setUp() public {
        a = new TalosAnchor(ADMIN, false);
        alice = vm.addr(ALICE_KEY);
        vm.prank(alice);
        a.register(DID, keccak256("doc v1"), binding(1));
    }

    /// @dev 96 bytes shaped like an owner binding (key ‖ signature). The contract checks
    /// only the length; verifiers check the signature off chain (crates/anchor tests).
    function binding(uint256 salt) internal pure returns (bytes memory) {
        return abi.encodePacked(
            keccak256(abi.encode("key", salt)), keccak256(abi.encode("r", salt)), keccak256(abi.encode("s", salt))
        );
    }

    function ids(uint256 n, uint256 salt) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            out[i] = keccak256(abi.encode(salt, i));
        }
    }

    // ------------------------------------------------------------ DID claims

    function test_register_resolve_rotate_deactivate() public {
        (uint32 version, bytes32 doc, bytes32 prev, bool off) = a.resolve(DID, alice);
        assertEq(version, 1, "version");
        assertEq(doc, keccak256("doc v1"), "doc");
        assertEq(prev, bytes32(0), "prev");
        assertTrue(!off, "active");
        vm.prank(alice);
        a.rotate(DID, keccak256("doc v2"));
        (version, doc, prev,) = a.resolve(DID, alice);
        assertEq(version, 2, "version 2");
        assertEq(doc, keccak256("doc v2"), "doc v2");
        assertEq(prev, keccak256("doc v1"), "prev hash chains");
        // Bob has no claim on the DID: he can neither rotate nor write for it.
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.UnknownClaim.selector, DID, BOB));
        a.rotate(DID, keccak256("doc v3"));
        vm.prank(alice);
        a.deactivate(DID);
        (version,,, off) = a.resolve(DID, alice);
        assertTrue(off, "deactivated");
        assertEq(version, 2, "deactivation keeps the version");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.Deactivated.selector, DID, alice));
        a.anchorRoot(DID, 1, keccak256("r1"));
    }

    function test_register_twice_bad_binding_and_unknown_claim() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.ClaimExists.selector, DID, alice));
        a.register(DID, bytes32(0), binding(2));
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.BadBinding.selector, 0));
        a.register(DID, bytes32(0), "");
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.BadBinding.selector, 97));
        a.register(DID, bytes32(0), abi.encodePacked(binding(3), bytes1(0)));
        bytes32 unknown = keccak256("nobody");
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.UnknownClaim.selector, unknown, address(this)));
        a.anchorRoot(unknown, 1, bytes32(uint256(2)));
        (uint32 version,,,) = a.resolve(unknown, alice);
        assertEq(version, 0, "no claim");
    }

    function test_registration_emits_the_binding() public {
        bytes memory b = binding(7);
        vm.expectEmit(true, true, false, true);
        emit DidRegistered(DID, BOB, keccak256("bob doc"), b);
        vm.prank(BOB);
        a.register(DID, keccak256("bob doc"), b);
    }

    function test_owner_statement_layout() public view {
        bytes memory st = a.ownerStatement(DID, alice);
        assertEq(st.length, 122, "18 + 32 + 20 + 32 + 20 bytes");
        assertEq(
            keccak256(st),
            keccak256(abi.encodePacked("talos-evm-owner-v1", block.chainid, address(a), DID, alice)),
            "tag, chain id, contract, DID, owner"
        );
    }

    /// Finding 4 of issue 17: a squatter registers the victim's DID hash first and writes
    /// under it. It cannot block the owner, nor touch the owner's claim: every write is
    /// keyed by (DID, account), and verifiers pick the claim whose binding verifies.
    function test_did_squatting_neither_blocks_nor_mixes_with_the_owner() public {
        bytes32 victim = keccak256("did:key:z6MkVictim");
        address squatter = address(0x5047);
        address owner = address(0x0D1D);
        vm.startPrank(squatter);
        a.register(victim, keccak256("fake doc"), binding(66));
        a.anchorRoot(victim, 100, keccak256("fake root"));
        a.revoke(victim, ids(3, 9));
        a.commit(victim, ids(2, 8));
        vm.stopPrank();

        // The owner registers after the squatter, and nothing of the squatter's shows.
        vm.expectEmit(true, true, false, true);
        emit DidRegistered(victim, owner, keccak256("real doc"), binding(1));
        vm.prank(owner);
        a.register(victim, keccak256("real doc"), binding(1));
        (uint32 version, bytes32 doc,,) = a.resolve(victim, owner);
        assertEq(version, 1, "owner's claim at version 1");
        assertEq(doc, keccak256("real doc"), "owner's document");
        (uint256 size, bytes32 root) = a.latestRoot(victim, owner);
        assertEq(size, 0, "no root for the owner yet");
        assertEq(root, bytes32(0), "no root for the owner yet");
        assertTrue(!a.isRevoked(victim, owner, ids(3, 9)[0]), "squatter's revocation is not the owner's");
        assertTrue(a.isRevoked(victim, squatter, ids(3, 9)[0]), "but it is the squatter's");
        assertTrue(!a.isCommitted(victim, owner, ids(2, 8)[0]), "squatter's commitment is not the owner's");

        // The owner anchors a smaller tree than the squatter's: its own claim, its own sizes.
        vm.expectEmit(true, true, false, true);
        emit RootAnchored(victim, owner, 5, keccak256("real root"));
        vm.prank(owner);
        a.anchorRoot(victim, 5, keccak256("real root"));
        (size, root) = a.latestRoot(victim, owner);
        assertEq(size, 5, "owner's size");
        assertEq(root, keccak256("real root"), "owner's root");
        (size, root) = a.latestRoot(victim, squatter);
        assertEq(size, 100, "squatter's size unchanged");

        // Neither can write to the other's claim, nor deactivate it.
        vm.prank(squatter);
        a.deactivate(victim);
        (,,, bool off) = a.resolve(victim, owner);
        assertTrue(!off, "the squatter deactivated only its own claim");
        vm.prank(owner);
        a.anchorRoot(victim, 6, keccak256("real root 6"));
    }

    // ------------------------------------------------------------ commitments, revocations

    function test_commit_and_revoke_single_and_batch() public {
        vm.startPrank(alice);
        a.commit(DID, ids(1, 1));
        a.commit(DID, ids(100, 2));
        bytes32[] memory r = ids(100, 3);
        vm.expectEmit(true, true, false, true);
        emit Revoked(DID, alice, r);
        a.revoke(DID, r);
        a.revoke(DID, r); // idempotent
        vm.stopPrank();
        assertTrue(a.isCommitted(DID, alice, ids(100, 2)[99]), "committed");
        assertTrue(!a.isCommitted(DID, alice, ids(100, 3)[0]), "not committed");
        (uint256 none, bytes32 noRoot) = a.latestRoot(DID, alice);
        assertEq(none, 0, "no root yet");
        assertEq(noRoot, bytes32(0), "no root yet");
        assertTrue(a.isRevoked(DID, alice, r[42]), "revoked");
        assertTrue(!a.isRevoked(DID, BOB, r[42]), "revoked by alice's claim only");
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.UnknownClaim.selector, DID, BOB));
        a.revoke(DID, r);
        vm.prank(alice);
        vm.expectRevert(TalosAnchor.EmptyBatch.selector);
        a.revoke(DID, new bytes32[](0));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.BatchTooLarge.selector, 513));
        a.commit(DID, ids(513, 4));
    }

    // ------------------------------------------------------------ audit roots

    function test_anchor_root_is_monotonic_and_idempotent() public {
        vm.startPrank(alice);
        vm.expectEmit(true, true, false, true);
        emit RootAnchored(DID, alice, 10, bytes32(uint256(10)));
        a.anchorRoot(DID, 10, bytes32(uint256(10)));
        a.anchorRoot(DID, 10, bytes32(uint256(10))); // same head again: no-op
        a.anchorRoot(DID, 20, bytes32(uint256(20)));
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.TreeSizeShrinks.selector, DID, 20, 19));
        a.anchorRoot(DID, 19, bytes32(uint256(19)));
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.ConflictingRoot.selector, DID, 20));
        a.anchorRoot(DID, 20, bytes32(uint256(21)));
        vm.stopPrank();
        (uint256 size, bytes32 root) = a.latestRoot(DID, alice);
        assertEq(size, 20, "latest size");
        assertEq(root, bytes32(uint256(20)), "latest root");
        vm.expectRevert(TalosAnchor.InvalidRoot.selector);
        vm.prank(alice);
        a.anchorRoot(DID, 30, bytes32(uint256(1)));
    }

    function testFuzz_tree_size_never_shrinks(uint256 s1, uint256 s2) public {
        s1 = bound(s1, 1, type(uint56).max);
        s2 = bound(s2, 1, type(uint56).max);
        vm.assume(s1 != s2);
        vm.startPrank(alice);
        a.anchorRoot(DID, s1, keccak256(abi.encode(s1)));
        if (s2 < s1) {
            vm.expectRevert(abi.encodeWithSelector(TalosAnchor.TreeSizeShrinks.selector, DID, s1, s2));
        }
        a.anchorRoot(DID, s2, keccak256(abi.encode(s2)));
        vm.stopPrank();
        (uint256 size,) = a.latestRoot(DID, alice);
        assertEq(size, s2 >= s1 ? s2 : s1, "size is the max");
    }

    /// Any other account, with or without its own claim on the DID, leaves alice's
    /// claim as it was.
    function testFuzz_strangers_never_touch_the_owners_claim(address caller, bytes32 x, bool claim) public {
        vm.assume(caller != alice && caller != address(a));
        vm.assume(x != bytes32(0) && x != bytes32(uint256(1)));
        vm.startPrank(caller);
        bytes32[] memory one = new bytes32[](1);
        one[0] = x;
        if (claim) {
            a.register(DID, x, binding(uint256(x)));
            a.anchorRoot(DID, 1 << 40, x);
            a.revoke(DID, one);
            a.commit(DID, one);
            a.rotate(DID, x);
            a.deactivate(DID);
        } else {
            vm.expectRevert(abi.encodeWithSelector(TalosAnchor.UnknownClaim.selector, DID, caller));
            a.anchorRoot(DID, 1, x);
            vm.expectRevert(abi.encodeWithSelector(TalosAnchor.UnknownClaim.selector, DID, caller));
            a.revoke(DID, one);
            vm.expectRevert(abi.encodeWithSelector(TalosAnchor.UnknownClaim.selector, DID, caller));
            a.commit(DID, one);
            vm.expectRevert(abi.encodeWithSelector(TalosAnchor.UnknownClaim.selector, DID, caller));
            a.rotate(DID, x);
        }
        vm.stopPrank();
        (uint32 version, bytes32 doc,, bool off) = a.resolve(DID, alice);
        assertEq(version, 1, "alice's version");
        assertEq(doc, keccak256("doc v1"), "alice's document");
        assertTrue(!off, "alice's claim active");
        (uint256 size,) = a.latestRoot(DID, alice);
        assertEq(size, 0, "alice's tree");
        assertTrue(!a.isRevoked(DID, alice, x), "alice revoked nothing");
        assertTrue(!a.isCommitted(DID, alice, x), "alice committed nothing");
    }

    function testFuzz_revocation_is_permanent(bytes32 id, uint256 n) public {
        vm.assume(id != bytes32(0));
        bytes32[] memory one = new bytes32[](1);
        one[0] = id;
        vm.prank(alice);
        a.revoke(DID, one);
        n = bound(n, 0, 5);
        for (uint256 i; i < n; ++i) {
            vm.prank(alice);
            a.rotate(DID, keccak256(abi.encode(i)));
        }
        vm.prank(alice);
        a.deactivate(DID);
        assertTrue(a.isRevoked(DID, alice, id), "still revoked");
    }

    // ------------------------------------------------------------ allow-list

    function test_allow_list() public {
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.NotAdmin.selector, BOB));
        a.setAllowList(true);
        vm.prank(ADMIN);
        a.setAllowList(true);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.NotWriter.selector, alice));
        a.anchorRoot(DID, 1, keccak256("r1"));
        vm.prank(ADMIN);
        a.setWriter(alice, true);
        vm.prank(alice);
        a.anchorRoot(DID, 1, keccak256("r1"));
    }

    // ------------------------------------------------------------ meta-transactions

    function signMeta(uint256 key, bytes memory data, uint256 nonce, uint256 deadline)
        internal
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        return vm.sign(key, a.metaTxDigest(vm.addr(key), data, nonce, deadline));
    }

    function test_meta_transaction_relayed_and_replay_fails() public {
        bytes memory data = abi.encodeCall(TalosAnchor.anchorRoot, (DID, 5, bytes32(uint256(5))));
        uint256 deadline = block.timestamp + 60;
        (uint8 v, bytes32 r, bytes32 s) = signMeta(ALICE_KEY, data, 0, deadline);
        vm.prank(BOB); // the relayer pays; alice holds no gas
        a.executeMeta(alice, data, 0, deadline, v, r, s);
        (uint256 size,) = a.latestRoot(DID, alice);
        assertEq(size, 5, "anchored through the relayer");
        assertEq(a.nonces(alice), 1, "nonce used");
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.BadNonce.selector, 1, 0));
        a.executeMeta(alice, data, 0, deadline, v, r, s);
    }

    function test_meta_transaction_rejections() public {
        bytes memory data = abi.encodeCall(TalosAnchor.anchorRoot, (DID, 5, bytes32(uint256(5))));
        uint256 deadline = block.timestamp + 60;
        (uint8 v, bytes32 r, bytes32 s) = signMeta(ALICE_KEY, data, 0, deadline);
        // High-s twin of a valid signature.
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        bytes32 highS = bytes32(n - uint256(s));
        uint8 flipped = v == 27 ? 28 : 27;
        vm.expectRevert(TalosAnchor.MalleableSignature.selector);
        a.executeMeta(alice, data, 0, deadline, flipped, r, highS);
        // Someone else's signature for alice.
        (v, r, s) = signMeta(0xBAD, data, 0, deadline);
        vm.expectRevert(TalosAnchor.BadSignature.selector);
        a.executeMeta(alice, data, 0, deadline, v, r, s);
        // Past the deadline.
        (v, r, s) = signMeta(ALICE_KEY, data, 0, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.Expired.selector, deadline));
        a.executeMeta(alice, data, 0, deadline, v, r, s);
        // Another chain id changes the domain: the signature no longer verifies.
        vm.warp(deadline - 1);
        vm.chainId(999);
        vm.expectRevert(TalosAnchor.BadSignature.selector);
        a.executeMeta(alice, data, 0, deadline, v, r, s);
    }

    function test_meta_transaction_bubbles_inner_errors() public {
        bytes memory data = abi.encodeCall(TalosAnchor.anchorRoot, (DID, 0, bytes32(uint256(1))));
        vm.prank(alice);
        a.anchorRoot(DID, 3, bytes32(uint256(3)));
        data = abi.encodeCall(TalosAnchor.anchorRoot, (DID, 2, bytes32(uint256(2))));
        uint256 deadline = block.timestamp + 60;
        (uint8 v, bytes32 r, bytes32 s) = signMeta(ALICE_KEY, data, 0, deadline);
        vm.expectRevert(abi.encodeWithSelector(TalosAnchor.TreeSizeShrinks.selector, DID, 3, 2));
        a.executeMeta(alice, data, 0, deadline, v, r, s);
    }

    // ------------------------------------------------------------ gas (see the gas report)

    function test_gas_register() public {
        vm.prank(BOB);
        a.register(keccak256("did:key:z6MkBob"), keccak256("bob doc"), binding(2));
    }

    function test_gas_anchor_root() public {
        vm.startPrank(alice);
        a.anchorRoot(DID, 1, keccak256("root 1"));
        a.anchorRoot(DID, 2, keccak256("root 2"));
        vm.stopPrank();
    }

    function test_gas_batch_of_100() public {
        vm.startPrank(alice);
        a.revoke(DID, ids(100, 7));
        a.commit(DID, ids(100, 8));
        vm.stopPrank();
    }
}
