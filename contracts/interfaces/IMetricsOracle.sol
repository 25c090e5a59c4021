// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IGridLedger} from "./IGridLedger.sol";

/// @notice One epoch's measurements of one asset, as each attestor signs it (EIP-712 typed data).
struct Report {
    uint256 assetId;
    uint64 epoch;
    uint32 uptimeBps; // healthy GPU-time delivered / leased GPU-time, bps
    uint32 curtailedBps; // share of the epoch under a grid curtailment event, bps
    bytes32 gridEventId; // the curtailment event, zero when none
    uint64 gpuEnergyWh;
    uint64 facilityEnergyWh; // everything the site drew: GPUs, Bitcoin miners, cooling
    uint64 miningEnergyWh; // hybrid sites: what the Bitcoin miners drew (zero on a pure AI site)
    uint64 miningRevenue; // hybrid sites: the mining pool's earnings in the epoch, stablecoin base units
    uint32 renewableBps;
    uint32 carbonGramsPerKwh;
    bytes32 evidenceHash; // sha-256 of the raw evidence file, served by the gateway
}

enum ReportStatus {
    None,
    Pending, // accepted, inside its challenge window (or past it: then final)
    Challenged,
    Upheld, // challenge rejected by the arbiter: final
    Voided // fraud proven: treated as no report ("no proof, no pay")
}

/// @notice What settlement needs of a report, stored in one slot.
struct StoredReport {
    uint32 uptimeBps;
    uint32 curtailedBps;
    uint64 acceptedAt;
    uint8 signerCount;
    ReportStatus status;
    /// @dev acceptedAt + the challenge window in force at acceptance: a later change of the window moves
    ///      neither when the report can be challenged nor when it settles.
    uint64 challengeEndsAt;
}

/// @title MetricsOracle
/// @notice Accepts one report per (asset, epoch) signed by at least `threshold` distinct attestors of the
///         asset; the median of each numeric field is used. Reports finalize after a challenge window; a
///         bonded challenge goes to the arbiter, and proven fraud slashes the operator's bond.
interface IMetricsOracle {
    error OracleUnknownAsset(uint256 assetId);
    error OracleLengthMismatch(uint256 reports, uint256 signatures);
    error OracleBelowThreshold(uint256 signers, uint256 threshold);
    error OracleReportMismatch(uint256 index, uint256 assetId, uint64 epoch);
    error OracleGridEventMismatch(uint256 index, bytes32 gridEventId, bytes32 expected);
    error OracleUnknownSigner(address signer);
    error OracleDuplicateSigner(address signer);
    error OracleEpochNotEnded(uint64 epoch, uint64 endsAt);
    error OracleReportTooLate(uint64 epoch, uint64 deadline);
    error OracleReportExists(uint256 assetId, uint64 epoch);
    error OracleValueOutOfRange(string field, uint256 value, uint256 max);
    error OracleEnergyAboveCapacity(uint256 gpuEnergyWh, uint256 maxWh);
    /// @notice The facility drew less than its GPUs and miners together.
    error OracleFacilityBelowLoad(uint256 facilityEnergyWh, uint256 gpuEnergyWh, uint256 miningEnergyWh);
    error OracleNotChallengeable(uint256 assetId, uint64 epoch, ReportStatus status, uint64 windowEnd);
    error OracleNotChallenged(uint256 assetId, uint64 epoch, ReportStatus status);
    error OracleNotArbiter(address caller);
    error OracleNothingToWithdraw(address account);
    /// @notice Curtailed time or an event id names no grid event declared for the asset.
    error OracleUnknownGridEvent(uint256 assetId, bytes32 gridEventId);
    /// @notice More curtailed time than the grid event covers of the epoch.
    error OracleCurtailmentOutsideEvent(bytes32 gridEventId, uint256 curtailedBps, uint256 maxBps);

    /// @notice Every field of the accepted (median) report, so an indexer needs nothing else.
    event ReportAccepted(uint256 indexed assetId, uint64 indexed epoch, Report report, address[] signers);
    event ReportChallenged(uint256 indexed assetId, uint64 indexed epoch, address indexed challenger, uint256 bond);
    event CreditWithdrawn(address indexed account, address indexed to, uint256 amount);
    event ChallengeResolved(
        uint256 indexed assetId, uint64 indexed epoch, bool fraud, uint256 slashed, uint256 challengerPaid
    );

    /// @notice Submits one epoch's report: `reports[i]` signed by the holder of `signatures[i]`.
    /// @dev Anyone may submit. Signers must be distinct attestors of the asset, at least `threshold` of them.
    function submitReport(Report[] calldata reports, bytes[] calldata signatures) external;

    /// @notice Challenges a report inside its window, pulling the challenge bond from the caller.
    function challenge(uint256 assetId, uint64 epoch) external;

    /// @notice Arbiter's verdict. Fraud voids the report, slashes the bond and rewards the challenger;
    ///         otherwise the challenger's bond goes to the operator and the report stands.
    function resolveChallenge(uint256 assetId, uint64 epoch, bool fraud) external;

    /// @notice Whether settlement may finalize the epoch now, and with which values.
    /// @return ready the epoch's outcome can no longer change
    /// @return proven a valid report exists (false: nothing delivered)
    function outcome(uint256 assetId, uint64 epoch)
        external
        view
        returns (bool ready, bool proven, uint32 uptimeBps, uint32 curtailedBps);

    /// @notice Sends the caller's credits (returned challenge bonds, rewards, forfeited bonds) to `to`.
    function withdraw(address to) external returns (uint256 amount);

    function creditOf(address account) external view returns (uint256);
    function reportOf(uint256 assetId, uint64 epoch) external view returns (StoredReport memory);
    function challengerOf(uint256 assetId, uint64 epoch) external view returns (address);
    /// @notice EIP-712 digest an attestor signs for `report`.
    function hashReport(Report calldata report) external view returns (bytes32);
    function REPORT_TYPEHASH() external view returns (bytes32);
    /// @notice The ledger of grid events that curtailed time must fall inside.
    function gridLedger() external view returns (IGridLedger);
}
