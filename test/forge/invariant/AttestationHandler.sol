// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CapacityRegistry} from "../../../contracts/CapacityRegistry.sol";
import {LeaseMarket} from "../../../contracts/LeaseMarket.sol";
import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {AssetTerms} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {
    Observation,
    Report,
    ReportStatus,
    SignedObservation,
    StoredReport,
    Verdict
} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";

/// @notice One asset with four attestors tolerating one faulty (f = 1). In every epoch one attestor (any of the
///         four, the site agent included) is malicious: it observes arbitrary in-bounds values or withholds, signs
///         conflicting observations, co-signs anything, tries to forge honest observations, and challenges. The
///         three honest attestors observe the truth within a small noise and co-sign only reports whose every
///         observation they verified. The submitter picks any subset of observations and any pair of willing
///         co-signers. Challengers include the operator, the liar, honest attestors and outsiders; the arbiter is
///         honest. Ghost state keeps each epoch's honest range and every flow through the oracle.
contract AttestationHandler is HandlerBase {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant NOISE_BPS = 60; // how far honest observations of the same epoch spread
    uint256 internal constant TOLERANCE_BPS = 100; // beyond this from the truth an observation is a lie

    TestStablecoin public usdc;
    CapacityRegistry public registry;
    MetricsOracle public oracle;
    LeaseMarket public market;
    uint256 public assetId;
    address public admin;
    address public operator;
    address public treasury;
    uint256[4] internal keys;
    address[4] public attestors;
    address public outsider = address(0x0D7);

    struct Honest {
        bool reported;
        uint16 uptimeMin;
        uint16 uptimeMax;
        uint16 curtailedMin;
        uint16 curtailedMax;
        uint16 trueUptime;
        uint8 liar; // 1-based attestor index of this epoch's malicious attestor
        bool liarLied; // its observation was beyond the tolerance from the truth
    }

    mapping(uint64 epoch => Honest) public honest;
    uint64 public nextEpoch; // the next epoch to report (or skip)
    uint256[] public leaseIds;

    // ghost flows of the oracle's stablecoin
    uint256 public ghostIn; // stakes, challenge bonds, bond slashes received
    uint256 public ghostOut; // withdrawals
    uint256 public openBonds; // bonds of challenges not yet resolved
    mapping(uint64 epoch => uint256) public bondOf;
    bool public faultyProfited; // a party at fault was paid by a dispute or a proof
    bool public forgeryAccepted; // a report with a forged observation got through
    bool public belowQuorumAccepted; // a report with fewer than 2f+1 observations got through
    bool public unexpectedRefusal; // a valid report (quorum, two willing co-signers) was refused
    uint256 public forgeriesTried;
    uint256 public reportsAccepted;
    uint256 public disputesResolved;
    uint256 public equivocationsProven;

    constructor(
        TestStablecoin usdc_,
        CapacityRegistry registry_,
        MetricsOracle oracle_,
        LeaseMarket market_,
        uint256 assetId_,
        address admin_,
        uint256[4] memory keys_,
        uint256[] memory leaseIds_
    ) {
        usdc = usdc_;
        registry = registry_;
        oracle = oracle_;
        market = market_;
        assetId = assetId_;
        admin = admin_;
        keys = keys_;
        for (uint256 i; i < 4; ++i) {
            attestors[i] = vm.addr(keys_[i]);
        }
        AssetTerms memory t = registry_.terms(assetId_);
        operator = t.operator;
        treasury = registry_.protocolParams().treasury;
        leaseIds = leaseIds_;
        address[6] memory funded = [operator, outsider, attestors[0], attestors[1], attestors[2], attestors[3]];
        for (uint256 i; i < funded.length; ++i) {
            vm.prank(admin_);
            usdc_.mint(funded[i], 1e15);
            vm.prank(funded[i]);
            usdc_.approve(address(oracle_), type(uint256).max);
        }
        // the stakes already in the oracle (the fixture's) enter the books here
        ghostIn = usdc_.balanceOf(address(oracle_));
    }

    function leaseCount() external view returns (uint256) {
        return leaseIds.length;
    }

    function _terms() internal view returns (AssetTerms memory) {
        return registry.terms(assetId);
    }

    function _epochEnd(uint64 epoch) internal view returns (uint256) {
        AssetTerms memory t = _terms();
        return uint256(t.genesis) + (uint256(epoch) + 1) * t.epochLength;
    }

    // ---------------------------------------------------------------- observations

    struct Draft {
        uint64 epoch;
        bytes32 gridEventId;
        uint8 liar;
        Observation[4] obs; // index i: attestor i + 1
        bool[4] available;
    }

    function _honestObservation(uint8 observer, uint256 uptime, uint256 curtailed, uint256 seed)
        internal
        pure
        returns (Observation memory o)
    {
        uint256 noiseU = uint256(keccak256(abi.encode(seed, observer, "u"))) % (NOISE_BPS + 1);
        // curtailment is read off the declared event: without one, nothing is curtailed
        uint256 noiseC = curtailed == 0 ? 0 : uint256(keccak256(abi.encode(seed, observer, "c"))) % (NOISE_BPS + 1);
        o = _observation(observer, uint32(uptime > noiseU ? uptime - noiseU : 0), uint32(curtailed + noiseC));
    }

    function _sign(uint8 observer, Draft memory d, Observation memory o) internal view returns (bytes memory) {
        return _sig(keys[observer - 1], oracle.hashObservation(assetId, d.epoch, d.gridEventId, o));
    }

    /// @dev The observations of `mask` (bit i: attestor i + 1, available ones only), ascending, each signed by its
    ///      own observer.
    function _report(Draft memory d, uint256 mask) internal view returns (Report memory r, uint256 k) {
        Observation[] memory obs = new Observation[](4);
        bytes memory sigs;
        for (uint8 i; i < 4; ++i) {
            if ((mask >> i) & 1 == 1 && d.available[i]) {
                obs[k++] = d.obs[i];
                sigs = bytes.concat(sigs, _sign(i + 1, d, d.obs[i]));
            }
        }
        assembly ("memory-safe") {
            mstore(obs, k)
        }
        r = Report({
            assetId: assetId,
            epoch: d.epoch,
            gridEventId: d.gridEventId,
            observations: _pack(obs),
            observationSignatures: sigs
        });
    }

    // ---------------------------------------------------------------- actions

    /// @notice One epoch's report: honest attestors observe the truth within the noise; the liar observes
    ///         arbitrary values or withholds; the submitter picks the subset and the co-signers.
    /// @param truth the true uptime (low 128 bits) and curtailment (high bits), bounded
    /// @param lie the liar's uptime and curtailment, likewise
    /// @param choices liar index, subset mask, first co-signer, whether the liar withholds (one byte each)
    function reportEpoch(uint256 truth, uint256 lie, uint256 seed, uint256 choices) external {
        uint64 epoch = nextEpoch;
        uint256 end = _epochEnd(epoch);
        if (block.timestamp > end + registry.protocolParams().reportDeadline) return; // too late: skip instead
        Draft memory d;
        d.epoch = epoch;
        d.liar = uint8(bound(uint8(choices), 1, 4));
        uint256 trueUptime = bound(uint128(truth), 0, BPS);
        uint256 trueCurtailed = bound(truth >> 128, 0, BPS - NOISE_BPS);
        if (trueCurtailed != 0 && block.timestamp < end) {
            // an honest attestor's VEN declared the event covering the whole epoch
            uint8 declarer = d.liar == 1 ? 2 : 1;
            _declareGridEvent(
                oracle, keys[declarer - 1], assetId, epoch, uint64(end - _terms().epochLength), uint64(end)
            );
            d.gridEventId = _declarationId(oracle, keys[declarer - 1], assetId, epoch);
        } else {
            trueCurtailed = 0;
        }
        _warpTo(end);
        Honest memory h = _observeAll(d, trueUptime, trueCurtailed, lie, seed, (choices >> 24) & 1 == 1);

        // the submitter's subset: any of the available observations, in order
        (Report memory r, uint256 k) = _report(d, (choices >> 8) & 0xF);
        bytes memory cosigs = _cosigners(r, uint8(choices >> 16));
        try oracle.submitReport(r, cosigs) {
            if (k < 3) belowQuorumAccepted = true;
            honest[epoch] = h;
            ++reportsAccepted;
            nextEpoch = epoch + 1;
        } catch {
            // below the quorum of three: refused, as it must be; the epoch stays open for a full report
            if (k >= 3) unexpectedRefusal = true;
        }
    }

    /// @dev Every attestor's observation: honest ones the truth within the noise, the liar's `lie` (or withheld).
    function _observeAll(
        Draft memory d,
        uint256 trueUptime,
        uint256 trueCurtailed,
        uint256 lie,
        uint256 seed,
        bool liarWithholds
    ) internal pure returns (Honest memory h) {
        h = Honest({
            reported: true,
            uptimeMin: type(uint16).max,
            uptimeMax: 0,
            curtailedMin: type(uint16).max,
            curtailedMax: 0,
            trueUptime: uint16(trueUptime),
            liar: d.liar,
            liarLied: false
        });
        for (uint8 i = 1; i <= 4; ++i) {
            d.available[i - 1] = true;
            if (i == d.liar) {
                d.obs[i - 1] = _observation(i, uint32(bound(uint128(lie), 0, BPS)), 0);
                // the liar may claim curtailment only under the report's event (any value there)
                if (d.gridEventId != bytes32(0)) d.obs[i - 1].curtailedBps = uint32(bound(lie >> 128, 0, BPS));
                d.available[i - 1] = !liarWithholds;
                continue;
            }
            Observation memory o = _honestObservation(i, trueUptime, trueCurtailed, seed);
            d.obs[i - 1] = o;
            if (o.uptimeBps < h.uptimeMin) h.uptimeMin = uint16(o.uptimeBps);
            if (o.uptimeBps > h.uptimeMax) h.uptimeMax = uint16(o.uptimeBps);
            if (o.curtailedBps < h.curtailedMin) h.curtailedMin = uint16(o.curtailedBps);
            if (o.curtailedBps > h.curtailedMax) h.curtailedMax = uint16(o.curtailedBps);
        }
        Observation memory liar = d.obs[d.liar - 1];
        h.liarLied = _far(liar.uptimeBps, trueUptime) || _far(liar.curtailedBps, trueCurtailed);
    }

    /// @dev Any two willing co-signers: the liar always, honest attestors after verifying every observation.
    function _cosigners(Report memory r, uint8 seed) internal returns (bytes memory) {
        uint8 first = uint8(bound(seed, 1, 4));
        uint8 second = first % 4 + 1;
        _keepStaked(first);
        _keepStaked(second);
        uint256[] memory ck = new uint256[](2);
        ck[0] = keys[first - 1];
        ck[1] = keys[second - 1];
        return _cosign(oracle, r, ck);
    }

    /// @dev The operator tops up a slashed attestor's stake to the minimum, so that it can co-sign again.
    function _keepStaked(uint8 index) internal {
        (, uint256 stake) = oracle.attestorOf(assetId, attestors[index - 1]);
        uint256 min = oracle.params().minAttestorStake;
        if (stake >= min) return;
        vm.prank(operator);
        oracle.depositStake(assetId, attestors[index - 1], min - stake);
        ghostIn += min - stake;
    }

    /// @notice Observers out of ascending order (a duplicate, or descending): refused whatever the co-signers.
    function misorderedReport(bool duplicate) external {
        uint64 epoch = nextEpoch;
        uint256 end = _epochEnd(epoch);
        if (block.timestamp > end + registry.protocolParams().reportDeadline) return;
        _warpTo(end);
        Observation[] memory obs = new Observation[](3);
        uint256[] memory signers = new uint256[](3);
        uint8[3] memory order = duplicate ? [uint8(1), 2, 2] : [uint8(3), 2, 1];
        for (uint256 i; i < 3; ++i) {
            obs[i] = _observation(order[i], uint32(BPS), 0);
            signers[i] = keys[order[i] - 1];
        }
        Report memory r = _buildReport(oracle, assetId, epoch, bytes32(0), obs, signers);
        uint256[] memory ck = new uint256[](2);
        ck[0] = keys[0];
        ck[1] = keys[1];
        bytes memory cosigs = _cosign(oracle, r, ck);
        ++forgeriesTried;
        try oracle.submitReport(r, cosigs) {
            forgeryAccepted = true;
        } catch {}
    }

    function _far(uint256 a, uint256 b) internal pure returns (bool) {
        return (a > b ? a - b : b - a) > TOLERANCE_BPS + NOISE_BPS;
    }

    /// @notice The liar forges an honest attestor's observation (its own key under the honest observer's index)
    ///         and co-signs. No honest attestor co-signs a forged observation, so at most the liar does: the
    ///         submission must fail, whatever it pairs the liar's co-signature with.
    function forgeReport(uint8 liarSeed, uint8 victimSeed, uint256 fakeUptime, uint8 mode) external {
        uint64 epoch = nextEpoch;
        uint256 end = _epochEnd(epoch);
        if (block.timestamp > end + registry.protocolParams().reportDeadline) return;
        _warpTo(end);
        uint8 liar = uint8(bound(liarSeed, 1, 4));
        uint8 victim = uint8(bound(victimSeed, 1, 3));
        if (victim >= liar) ++victim;
        Observation[] memory obs = new Observation[](3);
        uint256[] memory signers = new uint256[](3);
        uint8 next;
        for (uint8 i = 1; i <= 4 && next < 3; ++i) {
            obs[next] = _observation(i, i == victim ? uint32(bound(fakeUptime, 0, BPS)) : uint32(BPS), 0);
            signers[next] = i == victim ? keys[liar - 1] : keys[i - 1];
            ++next;
        }
        Report memory r = _buildReport(oracle, assetId, epoch, bytes32(0), obs, signers);
        // the liar's co-signature alone, twice, or with an outsider's: never two distinct staked attestors
        bytes memory one = _sig(keys[liar - 1], oracle.hashReport(r));
        bytes memory cosigs =
            mode % 3 == 0 ? one : bytes.concat(one, mode % 3 == 1 ? one : _sig(0xBAD5EED, oracle.hashReport(r)));
        ++forgeriesTried;
        try oracle.submitReport(r, cosigs) {
            forgeryAccepted = true;
        } catch {}
    }

    /// @notice No report this epoch: every attestor silent (or the submitter never submits).
    function skipEpoch() external {
        uint64 epoch = nextEpoch;
        _warpTo(_epochEnd(epoch) + registry.protocolParams().reportDeadline + 1);
        nextEpoch = epoch + 1;
    }

    /// @notice A challenge of the latest report by the operator, its liar, an honest attestor or an outsider;
    ///         the honest arbiter rules at once: values that lie in the honest range stand, the liar is named
    ///         when its observation was a lie.
    function challengeLatest(uint8 who) external {
        if (nextEpoch == 0) return;
        uint64 epoch = nextEpoch - 1;
        StoredReport memory s = oracle.reportOf(assetId, epoch);
        if (s.status != ReportStatus.Pending || block.timestamp >= s.challengeEndsAt) return;
        Honest memory h = honest[epoch];
        address challenger = _challenger(who, h.liar);
        uint256 bond = registry.protocolParams().challengeBond;
        uint256 creditBefore = oracle.creditOf(challenger);
        vm.prank(challenger);
        oracle.challenge(assetId, epoch);
        ghostIn += bond;
        uint32 faulty = h.liarLied ? uint32(1 << (h.liar - 1)) : 0;
        uint256 bondBefore = registry.bondOf(assetId);
        vm.prank(admin);
        oracle.resolveChallenge(
            assetId,
            epoch,
            Verdict({voided: false, uptimeBps: s.uptimeBps, curtailedBps: s.curtailedBps, faultyAttestors: faulty})
        );
        ghostIn += bondBefore - registry.bondOf(assetId); // none here: the report did not overstate
        ++disputesResolved;
        bool atFault = (h.liarLied && challenger == attestors[h.liar - 1]);
        if (atFault && oracle.creditOf(challenger) > creditBefore) faultyProfited = true;
    }

    function _challenger(uint8 who, uint8 liar) internal view returns (address) {
        uint256 w = bound(who, 0, 3);
        if (w == 0) return operator;
        if (w == 1) return attestors[liar - 1];
        if (w == 2) return attestors[liar % 4]; // an honest attestor
        return outsider;
    }

    /// @notice The latest epoch's liar signs a second, different observation; someone (the liar itself, the
    ///         operator or an outsider) proves the equivocation.
    function proveEquivocation(uint8 proverSeed, uint32 otherUptime) external {
        if (nextEpoch == 0) return;
        uint64 epoch = nextEpoch - 1;
        Honest memory h = honest[epoch];
        if (!h.reported) return;
        Observation memory a = _observation(h.liar, h.trueUptime, 0);
        Observation memory b = _observation(h.liar, uint32(bound(otherUptime, 0, BPS)), 1);
        SignedObservation memory sa = SignedObservation({
            gridEventId: bytes32(0),
            observation: a,
            signature: _sig(keys[h.liar - 1], oracle.hashObservation(assetId, epoch, bytes32(0), a))
        });
        SignedObservation memory sb = SignedObservation({
            gridEventId: bytes32(0),
            observation: b,
            signature: _sig(keys[h.liar - 1], oracle.hashObservation(assetId, epoch, bytes32(0), b))
        });
        address liar = attestors[h.liar - 1];
        address prover = proverSeed % 3 == 0 ? liar : (proverSeed % 3 == 1 ? operator : outsider);
        uint256 creditBefore = oracle.creditOf(prover);
        vm.prank(prover);
        try oracle.proveEquivocation(assetId, epoch, sa, sb) {
            ++equivocationsProven;
            if (prover == liar && oracle.creditOf(liar) > creditBefore) faultyProfited = true;
        } catch {} // proven before for this epoch
    }

    /// @notice Settles every epoch that is ready.
    function finalize(uint16 wait) external {
        _warpTo(block.timestamp + bound(wait, 0, 2 * uint256(registry.protocolParams().challengeWindow)));
        market.finalizeEpochs(assetId, 64);
    }

    /// @notice Anyone withdraws its oracle credits (treasury, challengers, provers).
    function withdraw(uint8 whoSeed) external {
        address[4] memory who = [treasury, operator, outsider, attestors[whoSeed % 4]];
        address account = who[whoSeed % 4];
        uint256 amount = oracle.creditOf(account);
        if (amount == 0) return;
        vm.prank(account);
        oracle.withdraw(account);
        ghostOut += amount;
    }
}
