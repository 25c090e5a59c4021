// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IGridLedger} from "./IGridLedger.sol";
import {IStablecoinGuard} from "./IStablecoinGuard.sol";

/// @notice What one attestor measured of one asset in one epoch. It signs it as a `SignedObservation`
///         (EIP-712), which adds the asset, the epoch and the grid event the observation is about.
/// @param observer 1-based index of the attestor in the asset's set
/// @param uptimeBps healthy GPU-time delivered / leased GPU-time, bps
/// @param curtailedBps share of the epoch under the report's grid curtailment event, bps
/// @param gpuEnergyWh what the GPUs drew in the epoch, Wh (at most every GPU at full power for the whole epoch)
/// @param facilityEnergyWh everything the site drew: GPUs, Bitcoin miners, cooling (Wh; at least GPUs plus miners)
/// @param miningEnergyWh hybrid sites: what the Bitcoin miners drew (Wh; zero on a pure AI site)
/// @param miningRevenue hybrid sites: the mining pool's earnings in the epoch, stablecoin base units
/// @param renewableBps share of the energy drawn that was renewable, bps
/// @param carbonGramsPerKwh carbon intensity of the energy drawn, grams of CO2 per kWh (at most 2,000)
/// @param evidenceHash sha-256 of this attestor's raw evidence file, served by its agent and the gateway
struct Observation {
    uint8 observer;
    uint32 uptimeBps;
    uint32 curtailedBps;
    uint64 gpuEnergyWh;
    uint64 facilityEnergyWh;
    uint64 miningEnergyWh;
    uint64 miningRevenue;
    uint32 renewableBps;
    uint32 carbonGramsPerKwh;
    bytes32 evidenceHash;
}

/// @notice An observation as its attestor signed it (the EIP-712 `SignedObservation` of the asset and epoch).
/// @param gridEventId the GridLedger declaration the observation is about; zero when none
/// @param observation what the attestor measured
/// @param signature 65 bytes (r, s, v)
struct SignedObservation {
    bytes32 gridEventId;
    Observation observation;
    bytes signature;
}

/// @notice One epoch's report: at least 2f+1 observations of distinct attestors, each with its own signature,
///         co-signed as a whole (EIP-712 `Report`, whose `observations` is an `Observation[]`) by at least f+1
///         attestors who checked every observation's signature. The contract takes the median of each field
///         itself, so no submitter can bias it.
/// @param assetId the asset
/// @param epoch the epoch index reported
/// @param gridEventId the GridLedger declaration the curtailed time falls in; zero when none
/// @param observations 73 bytes per observation, the fields of `Observation` packed big-endian (layout:
///        ObservationsLib), strictly ascending by observer
/// @param observationSignatures 65 bytes (r, s, v) per observation, in the same order
struct Report {
    uint256 assetId;
    uint64 epoch;
    bytes32 gridEventId;
    bytes observations;
    bytes observationSignatures;
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
/// @param uptimeBps the values settlement uses (corrected ones once a dispute corrects them)
/// @param curtailedBps the curtailed share settlement uses, bps (likewise)
/// @param status where the report stands
/// @param challengeEndsAt acceptance time + the challenge window in force then: a later change of the window moves
///        neither when the report can be challenged nor when it settles. Once the report is challenged, the time
///        the arbiter's dispute deadline runs out instead.
/// @param cosigners bit i: the attestor of index i + 1 co-signed the report
/// @param digest the first 18 bytes of the co-signed EIP-712 digest: what a fault proof presents again
struct StoredReport {
    uint16 uptimeBps;
    uint16 curtailedBps;
    ReportStatus status;
    uint40 challengeEndsAt;
    uint32 cosigners;
    bytes18 digest;
}

/// @notice An asset's attestation set-up, written once when it registers (one slot).
/// @param genesis timestamp where the asset's epoch 0 starts
/// @param epochLength seconds
/// @param maxGpuEnergyWh every GPU at its maximum power for a whole epoch
/// @param attestorCount n
/// @param faultTolerance f: n >= 3f + 1
struct AttestationConfig {
    uint64 genesis;
    uint32 epochLength;
    uint64 maxGpuEnergyWh;
    uint8 attestorCount;
    uint8 faultTolerance;
}

/// @notice The registry's protocol parameters the report path reads, kept here in one slot (the registry
///         pushes them whenever governance sets them).
/// @param reportDeadline seconds after an epoch ends during which its report can be submitted
/// @param challengeWindow seconds after acceptance during which a report can be challenged
/// @param minAttestorStake what a co-signer must have staked for its signature to count
/// @param disputeDeadline seconds the arbiter has to rule on a challenge before anyone may expire it
struct OracleParams {
    uint32 reportDeadline;
    uint32 challengeWindow;
    uint128 minAttestorStake;
    uint32 disputeDeadline;
}

/// @notice The arbiter's finding on a challenged report.
/// @param voided no valid measurement exists: nothing delivered
/// @param uptimeBps the true values (ignored when voided); equal to the report's when it stands
/// @param curtailedBps the true curtailed share, bps (likewise)
/// @param faultyAttestors bit i: the observation of the attestor of index i + 1 was false
struct Verdict {
    bool voided;
    uint16 uptimeBps;
    uint16 curtailedBps;
    uint32 faultyAttestors;
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
    /// @notice The asset is not registered (or has no attestation set-up). Raised by {submitReport}.
    /// @param assetId the report's asset
    error OracleUnknownAsset(uint256 assetId);
    /// @notice Packed observations whose length is not a multiple of the 73-byte observation.
    /// @param length the length of the report's `observations`, bytes
    /// @param observationSize the size of one packed observation (73 bytes)
    error OracleObservationsLength(uint256 length, uint256 observationSize);
    /// @notice Fewer observations than the quorum 2f+1, or more than the asset's attestors.
    /// @param observations the observations in the report
    /// @param quorum 2f + 1
    /// @param attestors n, the asset's attestors
    error OracleObservationCount(uint256 observations, uint256 quorum, uint256 attestors);
    /// @notice Observers must be attestor indexes (1..n) in strictly ascending order.
    /// @param position the observation's 0-based position in the report
    /// @param observer the observer index it names
    /// @param previous the observer index before it (0 for the first)
    /// @param attestors n, the highest valid index
    error OracleObserverOutOfOrder(uint256 position, uint256 observer, uint256 previous, uint256 attestors);
    /// @notice A signature blob whose length is not 65 bytes per signature: a report's observation signatures
    ///         that are not 65 bytes per observation, co-signatures that are not a multiple of 65 bytes, or an
    ///         equivocation proof's signature that is not 65 bytes.
    /// @param length the blob's length, bytes
    /// @param expected the length expected, bytes (for co-signatures, the next multiple of 65)
    error OracleSignatureLength(uint256 length, uint256 expected);
    /// @notice Fewer co-signatures than f+1.
    /// @param cosigners the co-signatures given
    /// @param required f + 1
    error OracleTooFewCosigners(uint256 cosigners, uint256 required);
    /// @notice A signature that is not a valid ECDSA signature. Raised when a co-signature recovers to no
    ///         address.
    /// @param position the co-signature's 0-based position
    error OracleInvalidSignature(uint256 position);
    /// @notice A co-signature by someone outside the asset's attestor set. Also raised when stake is deposited
    ///         for an address that is not one of the asset's attestors.
    /// @param signer the co-signer, or the address the stake was for
    error OracleUnknownSigner(address signer);
    /// @notice The same attestor co-signed twice.
    /// @param signer the attestor
    error OracleDuplicateSigner(address signer);
    /// @notice A co-signer whose stake is below the asset's minimum.
    /// @param signer the co-signer
    /// @param stake its stake for the asset, stablecoin base units
    /// @param minStake the minimum stake, stablecoin base units
    error OracleCosignerUnderstaked(address signer, uint256 stake, uint256 minStake);
    /// @notice Raised when a report is submitted for an epoch that has not ended yet.
    /// @param epoch the epoch index reported
    /// @param endsAt when it ends (unix seconds)
    error OracleEpochNotEnded(uint64 epoch, uint64 endsAt);
    /// @notice Raised when a report is submitted after its epoch's report deadline.
    /// @param epoch the epoch index reported
    /// @param deadline the last moment a report could be submitted (unix seconds)
    error OracleReportTooLate(uint64 epoch, uint64 deadline);
    /// @notice Raised when a report is submitted for an epoch that already has one.
    /// @param assetId the asset
    /// @param epoch the epoch index
    error OracleReportExists(uint256 assetId, uint64 epoch);
    /// @notice An observation value outside what is physically possible: uptime, curtailment or renewable
    ///         share above 10,000 bps, or carbon intensity above 2,000 g/kWh.
    /// @param observer the observation's observer index
    /// @param field the field's name, e.g. "uptimeBps"
    /// @param value the value observed
    /// @param max the highest possible value
    error OracleValueOutOfRange(uint256 observer, string field, uint256 value, uint256 max);
    /// @notice An observation's GPU energy above every GPU at full power for the whole epoch.
    /// @param observer the observation's observer index
    /// @param gpuEnergyWh the GPU energy observed, Wh
    /// @param maxWh the asset's most GPU energy in an epoch, Wh
    error OracleEnergyAboveCapacity(uint256 observer, uint256 gpuEnergyWh, uint256 maxWh);
    /// @notice An observation whose facility drew less than its GPUs and miners together.
    /// @param observer the observation's observer index
    /// @param facilityEnergyWh the facility energy observed, Wh
    /// @param gpuEnergyWh the GPU energy observed, Wh
    /// @param miningEnergyWh the mining energy observed, Wh
    error OracleFacilityBelowLoad(
        uint256 observer, uint256 facilityEnergyWh, uint256 gpuEnergyWh, uint256 miningEnergyWh
    );
    /// @notice Curtailed time or an event id names no grid event declared for the asset. Raised when a report
    ///         has a non-zero median curtailment or a grid event id, and the id is not a declaration for the
    ///         asset.
    /// @param assetId the asset
    /// @param gridEventId the report's grid event id (zero when it named none)
    error OracleUnknownGridEvent(uint256 assetId, bytes32 gridEventId);
    /// @notice More curtailed time than the grid event covers of the epoch.
    /// @param gridEventId the report's grid event (declaration id)
    /// @param curtailedBps the median curtailment observed, bps of the epoch
    /// @param maxBps the share of the epoch the event covers, bps (rounded up)
    error OracleCurtailmentOutsideEvent(bytes32 gridEventId, uint256 curtailedBps, uint256 maxBps);
    /// @notice Raised when a report is challenged that is not pending (none, already challenged or settled by
    ///         a ruling or a proof) or whose challenge window has closed.
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param status the report's status
    /// @param windowEnd when its challenge window closes (unix seconds; for a challenged report, the dispute
    ///        deadline)
    error OracleNotChallengeable(uint256 assetId, uint64 epoch, ReportStatus status, uint64 windowEnd);
    /// @notice Raised when a ruling is given, or a challenge expired, for a report that is not challenged.
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param status the report's status
    error OracleNotChallenged(uint256 assetId, uint64 epoch, ReportStatus status);
    /// @notice Raised when an account without the registry's arbiter role resolves a challenge.
    /// @param caller the caller
    error OracleNotArbiter(address caller);
    /// @notice A verdict's values outside 0..10,000 bps, or naming attestors the asset does not have.
    /// @param uptimeBps the verdict's uptime, bps
    /// @param curtailedBps the verdict's curtailment, bps
    /// @param faultyAttestors the verdict's bitmap of faulty attestors (bit i: attestor index i + 1)
    error OracleInvalidVerdict(uint256 uptimeBps, uint256 curtailedBps, uint32 faultyAttestors);
    /// @notice Raised when the caller withdraws its stake or its credits and has none.
    /// @param account the caller
    error OracleNothingToWithdraw(address account);
    /// @notice A fault proof presented a report other than the one accepted.
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param presented the first 18 bytes of the presented report's EIP-712 digest
    /// @param accepted the first 18 bytes of the accepted report's digest
    error OracleReportNotAccepted(uint256 assetId, uint64 epoch, bytes18 presented, bytes18 accepted);
    /// @notice A fault proof where every observation signature is valid: nothing to settle.
    /// @param assetId the asset
    /// @param epoch the epoch index
    error OracleNoFault(uint256 assetId, uint64 epoch);
    /// @notice A fault proof after the report's window closed (or after it was settled by the arbiter).
    ///         Raised unless the report is challenged, or pending inside its challenge window.
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param status the report's status
    /// @param windowEnd when its challenge window closes (unix seconds; once challenged, the dispute deadline)
    error OracleNotProvable(uint256 assetId, uint64 epoch, ReportStatus status, uint64 windowEnd);
    /// @notice An equivocation proof whose two observations are not the same attestor's, for the same
    ///         asset and epoch, with different contents. Raised when the two signed observations are identical,
    ///         recover to different signers, or recover to an address that is not one of the asset's attestors.
    /// @param signerA the signer of the first observation (zero for an invalid signature)
    /// @param signerB the signer of the second observation (zero for an invalid signature)
    error OracleNotEquivocation(address signerA, address signerB);
    /// @notice This attestor's equivocation for this epoch was already proven and slashed.
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param attestor the attestor
    error OracleEquivocationProven(uint256 assetId, uint64 epoch, address attestor);
    /// @notice Raised when a stake deposit is of zero.
    error OracleZeroAmount();
    /// @notice Stake stays locked while the asset can still need it. Raised when an attestor withdraws its
    ///         stake before the asset is retired, every lease has settled and no dispute is open.
    /// @param assetId the asset
    /// @param attestor the attestor (the caller)
    /// @param openDisputes the asset's challenges waiting for the arbiter
    /// @param committedGpus GPUs still committed to leases in the LeaseMarket
    error OracleStakeLocked(uint256 assetId, address attestor, uint256 openDisputes, uint32 committedGpus);
    /// @notice Raised when anyone but the registry records a new asset's attestors or pushes parameters.
    /// @param caller the caller
    error OracleOnlyRegistry(address caller);
    /// @notice A challenge the arbiter still has time to rule on. Raised when anyone expires it before its
    ///         dispute deadline.
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param resolveBy the dispute deadline: when it may be expired (unix seconds)
    error OracleDisputeOpen(uint256 assetId, uint64 epoch, uint64 resolveBy);
    /// @notice The registry slashed less of the operator's bond than the bond held a moment before (cannot happen
    ///         with this registry).
    /// @param assetId the asset
    /// @param needed the slash the verdict imposed, stablecoin base units
    /// @param slashed what the registry slashed, stablecoin base units
    error OracleBondShort(uint256 assetId, uint256 needed, uint256 slashed);
    /// @notice Raised when the registry records attestors that cannot tolerate the fault model (fewer than
    ///         3f + 1 or more than 32), or a configuration whose attestor count differs from the list.
    /// @param attestors the attestors given
    /// @param faultTolerance f
    error OracleInvalidAttestationConfig(uint256 attestors, uint8 faultTolerance);

    // ---------------------------------------------------------------- events
    /// @notice A report was accepted: the medians settlement uses, its grid event, who observed and who
    ///         co-signed (bitmaps: bit i is attestor index i + 1) and its co-signed digest. The observations
    ///         themselves are in the transaction's input (`submitReport`); every other field's median follows
    ///         from them by the same rule (lower median), and the digest pins them.
    /// @param assetId the asset
    /// @param epoch the epoch index reported
    /// @param uptimeBps the median uptime, bps
    /// @param curtailedBps the median curtailed share, bps
    /// @param gridEventId the report's grid event (declaration id); zero when none
    /// @param observers bitmap of the observers
    /// @param cosigners bitmap of the co-signers
    /// @param digest the co-signed EIP-712 digest
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
    /// @notice Emitted when a report is challenged (followed by ChallengeUnbonded when the bond could not
    ///         move).
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param challenger the caller
    /// @param bond the protocol's challenge bond, stablecoin base units (not taken from an unbonded challenger)
    event ReportChallenged(uint256 indexed assetId, uint64 indexed epoch, address indexed challenger, uint256 bond);
    /// @notice A challenge was lodged while its bond could not move (the stablecoin paused, or the oracle
    ///         frozen): it stands, and can win nothing.
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param challenger the caller
    event ChallengeUnbonded(uint256 indexed assetId, uint64 indexed epoch, address indexed challenger);
    /// @notice The arbiter resolved a challenge. `status` is Upheld, Corrected or Voided; `uptimeBps` and
    ///         `curtailedBps` are what settlement uses.
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param status the report's status now
    /// @param uptimeBps the uptime settlement uses, bps (zero when voided)
    /// @param curtailedBps the curtailed share settlement uses, bps (zero when voided)
    /// @param faultyAttestors bitmap of the attestors found faulty (bit i: attestor index i + 1)
    /// @param operatorSlashed the operator's bond slashed, stablecoin base units
    /// @param attestorsSlashed the faulty attestors' stake slashed, stablecoin base units
    /// @param challengerPaid the bond and reward credited to the challenger, stablecoin base units
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
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param challenger the challenger
    /// @param bond the bond credited back to it, stablecoin base units (zero for an unbonded challenge)
    event ChallengeExpired(uint256 indexed assetId, uint64 indexed epoch, address indexed challenger, uint256 bond);
    /// @notice Anyone proved on chain that observation signatures of an accepted report are not its
    ///         observers': the co-signers who vouched for them are slashed and the report is voided.
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param prover the caller
    /// @param invalidObservers bitmap of the observers whose signature is not theirs (bit i: attestor index i + 1)
    /// @param slashed the co-signers' stake slashed, stablecoin base units
    /// @param reward the part of it credited to the prover (zero when the prover is a co-signer), stablecoin base
    ///        units
    event ObservationFaultProven(
        uint256 indexed assetId,
        uint64 indexed epoch,
        address indexed prover,
        uint32 invalidObservers,
        uint256 slashed,
        uint256 reward
    );
    /// @notice Anyone proved that an attestor signed two different observations of the same epoch.
    /// @param assetId the asset
    /// @param epoch the epoch index
    /// @param attestor the attestor slashed
    /// @param prover the caller
    /// @param slashed the attestor's stake slashed, stablecoin base units
    /// @param reward the part of it credited to the prover (zero when the attestor proves its own), stablecoin
    ///        base units
    event EquivocationProven(
        uint256 indexed assetId,
        uint64 indexed epoch,
        address indexed attestor,
        address prover,
        uint256 slashed,
        uint256 reward
    );
    /// @notice Emitted when the registry records a newly registered asset's attestors and fault model.
    /// @param assetId the asset
    /// @param attestors the attestors, in index order (attestor i + 1 is `attestors[i]`)
    /// @param faultTolerance f
    event AttestorsRegistered(uint256 indexed assetId, address[] attestors, uint8 faultTolerance);
    /// @notice Emitted when stake is deposited for an attestor.
    /// @param assetId the asset
    /// @param attestor the attestor credited
    /// @param from who paid it (the caller)
    /// @param amount the amount deposited, stablecoin base units
    /// @param stake the attestor's stake for the asset after it, stablecoin base units
    event StakeDeposited(
        uint256 indexed assetId, address indexed attestor, address indexed from, uint256 amount, uint256 stake
    );
    /// @notice Emitted when an attestor's stake is slashed (found faulty by the arbiter, co-signer of a report
    ///         with forged observations, or proven to equivocate); not when the slash rounds to nothing.
    /// @param assetId the asset
    /// @param attestor the attestor
    /// @param amount the stake slashed (rounded up), stablecoin base units
    /// @param stake the stake left, stablecoin base units
    event StakeSlashed(uint256 indexed assetId, address indexed attestor, uint256 amount, uint256 stake);
    /// @notice Emitted when an attestor withdraws its stake.
    /// @param assetId the asset
    /// @param attestor the attestor (the caller)
    /// @param to the address paid
    /// @param amount the stake paid, stablecoin base units
    event StakeWithdrawn(uint256 indexed assetId, address indexed attestor, address to, uint256 amount);
    /// @notice Emitted when an account withdraws its credits (returned bonds, rewards, the treasury's slashes).
    /// @param account the caller
    /// @param to the address paid
    /// @param amount the credits paid, stablecoin base units
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
    /// @notice The asset's attestation set-up (all zero for an unknown asset).
    function configOf(uint256 assetId) external view returns (AttestationConfig memory);
    /// @notice The protocol parameters the report path reads.
    function params() external view returns (OracleParams memory);
    /// @notice The asset's attestors, in index order.
    function attestors(uint256 assetId) external view returns (address[] memory);
    /// @return index 1-based index in the asset's set, 0 for a non-attestor
    /// @return stake the attestor's stake for the asset
    function attestorOf(uint256 assetId, address account) external view returns (uint8 index, uint256 stake);
    /// @notice The asset's challenges waiting for the arbiter (or for their deadline).
    function openDisputes(uint256 assetId) external view returns (uint256);
    /// @notice The account's credits (returned bonds, rewards, slashes), stablecoin base units.
    function creditOf(address account) external view returns (uint256);
    /// @notice The stored report of an asset's epoch (status None when there is none).
    function reportOf(uint256 assetId, uint64 epoch) external view returns (StoredReport memory);
    /// @notice Who challenged the epoch's report (zero when nobody did).
    function challengerOf(uint256 assetId, uint64 epoch) external view returns (address);
    /// @notice EIP-712 digest the co-signers sign for `report`.
    function hashReport(Report calldata report) external view returns (bytes32);
    /// @notice EIP-712 digest an attestor signs for its observation.
    function hashObservation(uint256 assetId, uint64 epoch, bytes32 gridEventId, Observation calldata observation)
        external
        view
        returns (bytes32);
    /// @notice The EIP-712 type hash of `Report`.
    function REPORT_TYPEHASH() external view returns (bytes32);
    /// @notice The EIP-712 type hash of `Observation`.
    function OBSERVATION_TYPEHASH() external view returns (bytes32);
    /// @notice The EIP-712 type hash of `SignedObservation`.
    function SIGNED_OBSERVATION_TYPEHASH() external view returns (bytes32);
    /// @notice The ledger of grid events that curtailed time must fall inside.
    function gridLedger() external view returns (IGridLedger);
}
