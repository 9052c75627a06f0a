// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title RootRegistry
/// @notice Source-chain registry of withdrawal Merkle roots, one per batch id,
///         anchored by the relayer. A batch id can be anchored only once, but
///         the SAME root may be anchored under DIFFERENT batch ids on purpose:
///         detecting a duplicated root is the watchdog's job, not this
///         contract's, and the tests need to be able to produce one.
contract RootRegistry {
    error NotRelayer(address caller);
    error ZeroRoot();
    error BatchAlreadyAnchored(uint256 batchId, bytes32 existingRoot);

    event RootAnchored(uint256 indexed batchId, bytes32 indexed root, address indexed relayer);

    address public immutable relayer;
    mapping(uint256 batchId => bytes32 root) public roots;
    uint256 public anchorCount;

    constructor(address relayer_) {
        relayer = relayer_;
    }

    function anchor(uint256 batchId, bytes32 root) external {
        if (msg.sender != relayer) revert NotRelayer(msg.sender);
        if (root == bytes32(0)) revert ZeroRoot();
        bytes32 existing = roots[batchId];
        if (existing != bytes32(0)) revert BatchAlreadyAnchored(batchId, existing);
        roots[batchId] = root;
        anchorCount += 1;
        emit RootAnchored(batchId, root, msg.sender);
    }
}
