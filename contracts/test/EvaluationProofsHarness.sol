// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IHalo2Verifier} from "../interfaces/IHalo2Verifier.sol";
import {EvaluationProofs} from "../zk/EvaluationProofs.sol";

/// @notice Test-only: exposes {EvaluationProofs} and records the last verified score.
contract EvaluationProofsHarness {
    uint256 public lastScore;

    function verify(
        IHalo2Verifier verifier,
        bytes calldata proof,
        uint256[] calldata instances,
        bytes32 chunk,
        bytes32 model,
        uint256 maxScore
    ) external returns (uint256 score) {
        score = EvaluationProofs.verify(verifier, proof, instances, EvaluationProofs.Statement(chunk, model, maxScore));
        lastScore = score;
    }
}
