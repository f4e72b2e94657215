// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {TalosAnchor} from "../src/TalosAnchor.sol";
import {Test, Vm} from "./utils/Test.sol";

/// @dev Drives the anchor with random actions from owners, strangers and relayers, and
/// keeps ghost copies of what must hold.
contract Handler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    TalosAnchor public immutable a;
    uint256[3] internal keys = [uint256(0xA1), 0xB2, 0xC3];
    bytes32[3] public dids;
    address[3] public owners;
    uint256[3] public maxSize;
    bytes32[] public revoked;
    uint256 public replaysAccepted;
    uint256 public strangerWrites;

    constructor(TalosAnchor a_) {
        a = a_;
        for (uint256 i; i < 3; ++i) {
            dids[i] = keccak256(abi.encode("did", i));
            owners[i] = vm.addr(keys[i]);
            vm.prank(owners[i]);
            a.register(dids[i], keccak256(abi.encode("doc", i)));
        }
    }

    function anchor(uint256 who, uint256 size, bytes32 root) external {
        who %= 3;
        size %= 1 << 40;
        if (root == bytes32(0) || root == bytes32(uint256(1))) root = keccak256(abi.encode(root));
        vm.prank(owners[who]);
        try a.anchorRoot(dids[who], size, root) {
            if (size > maxSize[who]) maxSize[who] = size;
        } catch {}
    }

    function revoke(uint256 who, bytes32 id) external {
        who %= 3;
        if (id == bytes32(0)) return;
        bytes32[] memory one = new bytes32[](1);
        one[0] = id;
        vm.prank(owners[who]);
        a.revoke(dids[who], one);
        revoked.push(id);
    }

    /// A stranger (any address but the owner) tries every write on someone's DID.
    function strangerWrite(uint256 who, address stranger, bytes32 x) external {
        who %= 3;
        if (stranger == owners[who] || stranger == address(a)) return;
        bytes32[] memory one = new bytes32[](1);
        one[0] = x;
        vm.startPrank(stranger);
        try a.anchorRoot(dids[who], 1 << 50, x) {
            strangerWrites++;
        }
            catch {}
        try a.rotate(dids[who], x, stranger) {
            strangerWrites++;
        }
            catch {}
        try a.deactivate(dids[who]) {
            strangerWrites++;
        }
            catch {}
        try a.commit(dids[who], one) {
            strangerWrites++;
        }
            catch {}
        vm.stopPrank();
    }

    /// A relayed meta-transaction, then the same one replayed.
    function relay(uint256 who, uint256 size) external {
        who %= 3;
        size = maxSize[who] + 1 + (size % 1000);
        bytes memory data = abi.encodeCall(TalosAnchor.anchorRoot, (dids[who], size, keccak256(abi.encode(size))));
        uint256 nonce = a.nonces(owners[who]);
        uint256 deadline = block.timestamp + 100;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[who], a.metaTxDigest(owners[who], data, nonce, deadline));
        a.executeMeta(owners[who], data, nonce, deadline, v, r, s);
        maxSize[who] = size;
        try a.executeMeta(owners[who], data, nonce, deadline, v, r, s) {
            replaysAccepted++;
        }
            catch {}
    }

    function revokedCount() external view returns (uint256) {
        return revoked.length;
    }
}

contract InvariantsTest is Test {
    TalosAnchor internal a;
    Handler internal h;

    function setUp() public {
        a = new TalosAnchor(address(0xAD), false);
        h = new Handler(a);
    }

    /// Only the owner writes: owners never change and strangers never succeed.
    function invariant_only_owner_writes() public view {
        assertEq(h.strangerWrites(), 0, "a stranger wrote");
        for (uint256 i; i < 3; ++i) {
            (address owner, uint32 version,,, bool off) = a.resolve(h.dids(i));
            assertEq(owner, h.owners(i), "owner changed");
            assertEq(version, 1, "version changed");
            assertTrue(!off, "deactivated by a stranger");
        }
    }

    /// Revocation is permanent.
    function invariant_revocation_is_permanent() public view {
        uint256 n = h.revokedCount();
        for (uint256 i; i < n; ++i) {
            assertTrue(a.revokedBy(h.revoked(i)) != bytes32(0), "revocation undone");
        }
    }

    /// The anchored tree size is the largest ever accepted: it never shrank.
    function invariant_tree_size_is_monotonic() public view {
        for (uint256 i; i < 3; ++i) {
            (uint256 size,) = a.latestRoot(h.dids(i));
            assertEq(size, h.maxSize(i), "tree size is not the maximum");
        }
    }

    /// A replayed meta-transaction never succeeds.
    function invariant_meta_transaction_replay_fails() public view {
        assertEq(h.replaysAccepted(), 0, "a replay was accepted");
    }
}
