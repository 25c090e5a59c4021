// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IGridLedger} from "./IGridLedger.sol";
import {IStablecoinGuard} from "./IStablecoinGuard.sol";

/// @notice What one attestor measured of one asset in one epoch. It signs it as a `SignedObservation`
///         (EIP-712), which adds the asset, the epoch and the grid event the observation is about.
struct Observation {
    uint8 observer; // 1-based index of the attestor in the asset's set
    uint32 uptimeBps; // healthy GPU-time delivered / leased GPU-time, bps
    uint32 curtailedBps; // share of the epoch under the report's grid curtailment event, bps
    uint64 gpuEnergyWh;
    uint64 facilityEnergyWh; // everything the site drew: GPUs, Bitcoin miners, cooling
    uint64 miningEnergyWh; // hybrid sites: what the Bitcoin miners drew (zero on a pure AI site)
    uint64 miningRevenue; // hybrid sites: the mining pool's earnings in the epoch, stablecoin base units
    uint32 renewableBps;
    uint32 carbonGramsPerKwh;
    bytes32 evidenceHash; // sha-256 of this attestor's raw evidence file, served by its agent and the gateway
}

/// @notice An observation as its attestor signed it (the EIP-712 `SignedObservation` of the asset and epoch).
struct SignedObservation {
    bytes32 gridEventId;
    Observation observation;
    bytes signature; // 65 bytes (r, s, v)
}

/// @notice One epoch's report: at least 2f+1 observations of distinct attestors, each with its own signature,
///         co-signed as a whole (EIP-712 `Report`, whose `observations` is an `Observation[]`) by at least f+1
///         attestors who checked every observation's signature. The contract takes the median of each field
///         itself, so no submitter can bias it.
struct Report {
    uint256 assetId;
    uint64 epoch;
    bytes32 gridEventId; // the GridLedger declaration the curtailed time falls in; zero when none
    /// @dev 73 bytes per observation, the fields of `Observation` packed big-endian (layout: ObservationsLib),
    ///      strictly ascending by observer
    bytes observations;
    bytes observationSignatures; // 65 bytes (r, s, v) per observation, in the same order
}

enum ReportStatus {
    None,
    Pending, // accepted, inside its challenge window (or past it: then final)
    Challenged, // a measurement dispute waits for the arbiter; settlement waits too
    Upheld, // the arbiter kept the values: final
    Corrected, // the arbiter, or an on-chain fault proof, replaced the values: final
    Voided // no valid measurement: treated as no report ("no proof, no pay")
}

/// @notice What settlement and fault proofs need of a report, in one slot.
struct StoredReport {
    uint16 uptimeBps; // the values settlement uses (corrected ones once a dispute corrects them)
    uint16 curtailedBps;
    ReportStatus status;
    /// @dev acceptance time + the challenge window in force then: a later change of the window moves neither
    ///      when the report can be challenged nor when it settles
    uint40 challengeEndsAt;
    uint32 cosigners; // bit i: the attestor of index i + 1 co-signed the report
    bytes18 digest; // the first 18 bytes of the co-signed EIP-712 digest: what a fault proof presents again
}

/// @notice An asset's attestation set-up, written once when it registers (one slot).
struct AttestationConfig {
    uint64 genesis;
    uint32 epochLength;
    uint64 maxGpuEnergyWh; // every GPU at its maximum power for a whole epoch
    uint8 attestorCount; // n
    uint8 faultTolerance; // f: n >= 3f + 1
}

/// @notice The registry's protocol parameters the report path reads, kept here in one slot (the registry
///         pushes them whenever governance sets them).
struct OracleParams {
    uint32 reportDeadline; // seconds after an epoch ends during which its report can be submitted
    uint32 challengeWindow; // seconds after acceptance during which a report can be challenged
    uint128 minAttestorStake; // what a co-signer must have staked for its signature to count
    uint32 disputeDeadline; // seconds the arbiter has to rule on a challenge before anyone may expire it
}

/// @notice The arbiter's finding on a challenged report.
struct Verdict {
    bool voided; // no valid measurement exists: nothing delivered
    uint16 uptimeBps; // the true values (ignored when voided); equal to the report's when it stands
    uint16 curtailedBps;
    uint32 faultyAttestors; // bit i: the observation of the attestor of index i + 1 was false
}

/// @title MetricsOracle
/// @notice Accepts one report per (asset, epoch) under a stated fault model: an asset has n attestors and
///         tolerates f faulty ones (lying, silent or colluding), n >= 3f + 1. A report carries at least 2f+1
///         signed observations of distinct attestors and at least f+1 co-signatures; the contract checks every
///         observed value and takes the medians settlement uses itself (the other fields' medians follow from
///         the co-signed observations by the same rule), so with at most f liars every accepted value lies
///         within the range of the honest observations, whichever observations anybody submits or withholds. Attestors stake the
///         stablecoin. Reports finalize after a challenge window: an invalid observation signature or an
///         attestor's two conflicting observations are proven on chain by anyone (no arbiter); a measurement
///         dispute goes to the arbiter, whose verdict can correct the values. The party at fault pays.
interface IMetricsOracle is IStablecoinGuard {
    // ---------------------------------------------------------------- errors
    /// @notice The asset is not registered (or has no attestation set-up).
    error OracleUnknownAsset(uint256 assetId);
    /// @notice Packed observations whose length is not a multiple of the 73-byte observation.
    error OracleObservationsLength(uint256 length, uint256 observationSize);
    /// @notice Fewer observations than the quorum 2f+1, or more than the asset's attestors.
    error OracleObservationCount(uint256 observations, uint256 quorum, uint256 attestors);
    /// @notice Observers must be attestor indexes (1..n) in strictly ascending order.
    error OracleObserverOutOfOrder(uint256 position, uint256 observer, uint256 previous, uint256 attestors);
    /// @notice A signature blob whose length is not 65 bytes per signature.
    error OracleSignatureLength(uint256 length, uint256 expected);
    /// @notice Fewer co-signatures than f+1.
    error OracleTooFewCosigners(uint256 cosigners, uint256 required);
    /// @notice A signature that is not a valid ECDSA signature.
    error OracleInvalidSignature(uint256 position);
    /// @notice A co-signature by someone outside the asset's attestor set.
    error OracleUnknownSigner(address signer);
    /// @notice The same attestor co-signed twice.
    error OracleDuplicateSigner(address signer);
    /// @notice A co-signer whose stake is below the asset's minimum.
    error OracleCosignerUnderstaked(address signer, uint256 stake, uint256 minStake);
    error OracleEpochNotEnded(uint64 epoch, uint64 endsAt);
    error OracleReportTooLate(uint64 epoch, uint64 deadline);
    error OracleReportExists(uint256 assetId, uint64 epoch);
    /// @notice An observation value outside what is physically possible.
    error OracleValueOutOfRange(uint256 observer, string field, uint256 value, uint256 max);
    /// @notice An observation's GPU energy above every GPU at full power for the whole epoch.
    error OracleEnergyAboveCapacity(uint256 observer, uint256 gpuEnergyWh, uint256 maxWh);
    /// @notice An observation whose facility drew less than its GPUs and miners together.
    error OracleFacilityBelowLoad(
        uint256 observer, uint256 facilityEnergyWh, uint256 gpuEnergyWh, uint256 miningEnergyWh
    );
    /// @notice Curtailed time or an event id names no grid event declared for the asset.
    error OracleUnknownGridEvent(uint256 assetId, bytes32 gridEventId);
    /// @notice More curtailed time than the grid event covers of the epoch.
    error OracleCurtailmentOutsideEvent(bytes32 gridEventId, uint256 curtailedBps, uint256 maxBps);
    error OracleNotChallengeable(uint256 assetId, uint64 epoch, ReportStatus status, uint64 windowEnd);
    error OracleNotChallenged(uint256 assetId, uint64 epoch, ReportStatus status);
    error OracleNotArbiter(address caller);
    /// @notice A verdict's values outside 0..10,000 bps, or naming attestors the asset does not have.
    error OracleInvalidVerdict(uint256 uptimeBps, uint256 curtailedBps, uint32 faultyAttestors);
    error OracleNothingToWithdraw(address account);
    /// @notice A fault proof presented a report other than the one accepted.
    error OracleReportNotAccepted(uint256 assetId, uint64 epoch, bytes18 presented, bytes18 accepted);
    /// @notice A fault proof where every observation signature is valid: nothing to settle.
    error OracleNoFault(uint256 assetId, uint64 epoch);
    /// @notice A fault proof after the report's window closed (or after it was settled by the arbiter).
    error OracleNotProvable(uint256 assetId, uint64 epoch, ReportStatus status, uint64 windowEnd);
    /// @notice An equivocation proof whose two observations are not the same attestor's, for the same
    ///         asset and epoch, with different contents.
    error OracleNotEquivocation(address signerA, address signerB);
    /// @notice This attestor's equivocation for this epoch was already proven and slashed.
    error OracleEquivocationProven(uint256 assetId, uint64 epoch, address attestor);
    error OracleZeroAmount();
    /// @notice Stake stays locked while the asset can still need it.
    error OracleStakeLocked(uint256 assetId, address attestor, uint256 openDisputes, uint32 committedGpus);
    error OracleOnlyRegistry(address caller);
    /// @notice A challenge the arbiter still has time to rule on.
    error OracleDisputeOpen(uint256 assetId, uint64 epoch, uint64 resolveBy);
    /// @notice The registry slashed less of the operator's bond than the bond held a moment before (cannot happen
    ///         with this registry).
    error OracleBondShort(uint256 assetId, uint256 needed, uint256 slashed);
    error OracleInvalidAttestationConfig(uint256 attestors, uint8 faultTolerance);

    // ---------------------------------------------------------------- events
    /// @notice A report was accepted: the medians settlement uses, its grid event, who observed and who
    ///         co-signed (bitmaps: bit i is attestor index i + 1) and its co-signed digest. The observations
    ///         themselves are in the transaction's input (`submitReport`); every other field's median follows
    ///         from them by the same rule (lower median), and the digest pins them.
    event ReportAccepted(
        uint256 indexed assetId,
        uint64 indexed epoch,
        uint16 uptimeBps,
        uint16 curtailedBps,
        bytes32 gridEventId,
        uint32 observers,
        uint32 cosigners,
        bytes32 digest
    );
    event ReportChallenged(uint256 indexed assetId, uint64 indexed epoch, address indexed challenger, uint256 bond);
    /// @notice A challenge was lodged while its bond could not move (the stablecoin paused, or the oracle
    ///         frozen): it stands, and can win nothing.
    event ChallengeUnbonded(uint256 indexed assetId, uint64 indexed epoch, address indexed challenger);
    /// @notice The arbiter resolved a challenge. `status` is Upheld, Corrected or Voided; `uptimeBps` and
    ///         `curtailedBps` are what settlement uses.
    event ChallengeResolved(
        uint256 indexed assetId,
        uint64 indexed epoch,
        ReportStatus status,
        uint16 uptimeBps,
        uint16 curtailedBps,
        uint32 faultyAttestors,
        uint256 operatorSlashed,
        uint256 attestorsSlashed,
        uint256 challengerPaid
    );
    /// @notice The arbiter did not rule in time: the report stands as accepted and the challenger's bond returns.
    event ChallengeExpired(uint256 indexed assetId, uint64 indexed epoch, address indexed challenger, uint256 bond);
    /// @notice Anyone proved on chain that observation signatures of an accepted report are not its
    ///         observers': the co-signers who vouched for them are slashed and the report is voided.
    event ObservationFaultProven(
        uint256 indexed assetId,
        uint64 indexed epoch,
        address indexed prover,
        uint32 invalidObservers,
        uint256 slashed,
        uint256 reward
    );
    /// @notice Anyone proved that an attestor signed two different observations of the same epoch.
    event EquivocationProven(
        uint256 indexed assetId,
        uint64 indexed epoch,
        address indexed attestor,
        address prover,
        uint256 slashed,
        uint256 reward
    );
    event AttestorsRegistered(uint256 indexed assetId, address[] attestors, uint8 faultTolerance);
    event StakeDeposited(
        uint256 indexed assetId, address indexed attestor, address indexed from, uint256 amount, uint256 stake
    );
    event StakeSlashed(uint256 indexed assetId, address indexed attestor, uint256 amount, uint256 stake);
    event StakeWithdrawn(uint256 indexed assetId, address indexed attestor, address to, uint256 amount);
    event CreditWithdrawn(address indexed account, address indexed to, uint256 amount);

    // ---------------------------------------------------------------- reports
    /// @notice Submits one epoch's report. Anyone may submit.
    /// @param cosignatures 65 bytes (r, s, v) per co-signer over {hashReport}; at least f+1 distinct staked
    ///        attestors
    function submitReport(Report calldata report, bytes calldata cosignatures) external;

    /// @notice Opens a measurement dispute inside the report's window, pulling the challenge bond from the
    ///         caller. Settlement of the epoch waits for the arbiter. While the stablecoin is paused (or the
    ///         oracle frozen) the challenge is lodged unbonded: a pause cannot close the window on a
    ///         fraudulent report. An unbonded challenger wins nothing and cannot bond it later.
    function challenge(uint256 assetId, uint64 epoch) external;

    /// @notice The arbiter's verdict. The values become what settlement uses; every attestor named faulty is
    ///         slashed; the operator's bond is slashed when the report overstated delivery (uptime above the
    ///         truth, or curtailment below it, or voided). The challenger gets its bond back and a reward
    ///         from the slashes when a fault was found and it is not a party at fault; otherwise its bond
    ///         goes to the treasury.
    function resolveChallenge(uint256 assetId, uint64 epoch, Verdict calldata verdict) external;

    /// @notice Closes a challenge the arbiter did not rule on within the dispute deadline: the report stands
    ///         (Upheld: its median of 2f+1 observations), the challenger's bond returns, settlement continues.
    ///         Anyone may call. A challenge can so delay settlement by at most the deadline.
    function expireChallenge(uint256 assetId, uint64 epoch) external;

    /// @notice Proves that observation signatures in an accepted report (presented again, as submitted) are
    ///         not their observers' (in any encoding). Every co-signer is slashed, the prover is rewarded, and
    ///         the report is voided: more than f co-signers lied, so nothing in it proves anything (taking the
    ///         median again over the rest would let them choose it). Open while the report is in its window
    ///         or challenged (a challenger's bond then comes back).
    function proveObservationFault(Report calldata report) external;

    /// @notice Proves that one attestor signed two different observations of the same epoch; it is slashed
    ///         once per epoch and the prover rewarded. The report, if any, is not changed.
    function proveEquivocation(
        uint256 assetId,
        uint64 epoch,
        SignedObservation calldata a,
        SignedObservation calldata b
    ) external;

    /// @notice Whether settlement may finalize the epoch now, and with which values.
    /// @return ready the epoch's outcome can no longer change
    /// @return proven a valid report exists (false: nothing delivered)
    function outcome(uint256 assetId, uint64 epoch)
        external
        view
        returns (bool ready, bool proven, uint32 uptimeBps, uint32 curtailedBps);

    // ---------------------------------------------------------------- attestors
    /// @notice The registry records a newly registered asset's attestors and fault model.
    function onAssetRegistered(uint256 assetId, AttestationConfig calldata config, address[] calldata attestors)
        external;

    /// @notice The registry passes on the parameters the report path reads, each time governance sets them.
    function onParamsSet(OracleParams calldata params) external;

    /// @notice Adds stablecoin to an attestor's stake for an asset (anyone may fund it).
    function depositStake(uint256 assetId, address attestor, uint256 amount) external;

    /// @notice Returns the caller's stake once the asset is retired, every lease has settled and no dispute is
    ///         open.
    function withdrawStake(uint256 assetId, address to) external returns (uint256 amount);

    /// @notice Sends the caller's credits (returned bonds, rewards, slashes owed to the treasury) to `to`.
    ///         Neither this nor {withdrawStake} pays a caller the issuer froze to another address
    ///         (StablecoinAccountFrozen).
    function withdraw(address to) external returns (uint256 amount);

    // ---------------------------------------------------------------- views
    function configOf(uint256 assetId) external view returns (AttestationConfig memory);
    function params() external view returns (OracleParams memory);
    function attestors(uint256 assetId) external view returns (address[] memory);
    /// @return index 1-based index in the asset's set, 0 for a non-attestor
    /// @return stake the attestor's stake for the asset
    function attestorOf(uint256 assetId, address account) external view returns (uint8 index, uint256 stake);
    function openDisputes(uint256 assetId) external view returns (uint256);
    function creditOf(address account) external view returns (uint256);
    function reportOf(uint256 assetId, uint64 epoch) external view returns (StoredReport memory);
    function challengerOf(uint256 assetId, uint64 epoch) external view returns (address);
    /// @notice EIP-712 digest the co-signers sign for `report`.
    function hashReport(Report calldata report) external view returns (bytes32);
    /// @notice EIP-712 digest an attestor signs for its observation.
    function hashObservation(uint256 assetId, uint64 epoch, bytes32 gridEventId, Observation calldata observation)
        external
        view
        returns (bytes32);
    function REPORT_TYPEHASH() external view returns (bytes32);
    function OBSERVATION_TYPEHASH() external view returns (bytes32);
    function SIGNED_OBSERVATION_TYPEHASH() external view returns (bytes32);
    /// @notice The ledger of grid events that curtailed time must fall inside.
    function gridLedger() external view returns (IGridLedger);
}
