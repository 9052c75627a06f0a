// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Multicall3
/// @notice The aggregate3 entry point of the Multicall3 contract that most EVM
///         chains carry at 0xcA11bde05977b3631167028862bE2a173976CA11, for the
///         local stack (anvil has none): the stack places this contract's code
///         at that address so relaywatch can read a thousand balances in one
///         eth_call. Written for the tests; only aggregate3 is here, with the
///         same ABI (calls made with CALL, results in call order, a failing
///         call with allowFailure set returns success = false and its revert
///         data, one without it reverts the whole aggregate).
contract Multicall3 {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    error CallFailed(uint256 index);

    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory results) {
        results = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            Call3 calldata c = calls[i];
            (bool ok, bytes memory data) = c.target.call(c.callData);
            if (!ok && !c.allowFailure) revert CallFailed(i);
            results[i] = Result(ok, data);
        }
    }
}
