// Counters, one field each, so incrementing one is a property write and reading them needs no
// lookup table. Every frame that is dropped is counted under exactly one reason.

/** Counters of an interface's link layer: frames and bytes each way, and why frames were dropped. */
export class LinkStats {
  /** Frames received from the device. */
  framesIn = 0;
  /** Frames handed to the device. */
  framesOut = 0;
  /** Bytes of the frames received. */
  bytesIn = 0;
  /** Bytes of the frames handed to the device. */
  bytesOut = 0;
  /** The device refused a frame (its queue full, link down). */
  transmitErrors = 0;
  /** Shorter than an Ethernet header. */
  runts = 0;
  /** Longer than the MTU allows. */
  oversized = 0;
  /** Unicast to another station (a promiscuous device passed it up). */
  notForUs = 0;
  /** Frames of an EtherType the stack does not speak (not IPv4 or ARP). */
  unknownEtherType = 0;
  /** Polls that found no buffer free to receive into; waiting frames stay in the device. */
  noBuffer = 0;
  /** Frames we sent to our own address or group, received back without the device. */
  loopedBack = 0;
}

/** Counters of ARP: messages each way, resolutions that failed, frames dropped while waiting for one. */
export class ArpStats {
  /** ARP requests received. */
  requestsIn = 0;
  /** ARP replies received. */
  repliesIn = 0;
  /** ARP requests sent. */
  requestsOut = 0;
  /** ARP replies sent. */
  repliesOut = 0;
  /** RFC 5227 announcements of our own address. */
  announcementsOut = 0;
  /** Truncated, wrong hardware or protocol type, bad sender address. */
  malformed = 0;
  /** Asks for or answers some other host's address. */
  notForUs = 0;
  /** Another station claims our address. */
  conflicts = 0;
  /** Resolution gave up (the waiting frames are counted in unresolvedDrops). */
  failures = 0;
  /** Frames dropped because resolution of their next hop gave up. */
  unresolvedDrops = 0;
  /**
   * A waiting frame dropped because the queue (or, for replies to strangers, their share of it)
   * was full; or a frame of ours for which no entry could be had (every entry in use, or
   * resolving for less than a retransmission).
   */
  queueDrops = 0;
  /** A reply we did not ask for, from a host not in the cache (ignored, as Linux does). */
  unsolicited = 0;
  /**
   * A reply to a neighbor we held no entry for (an echo reply to a spoofed ping) dropped because
   * such replies already held their share of the cache.
   */
  replyDrops = 0;
  /** Waiting frames dropped because their unanswered resolution was recycled for another. */
  evictedDrops = 0;
  /**
   * A sender no host may have: not on our subnet, its broadcast or network address, 0/8, 127/8,
   * 240/4, or a probe (sender 0.0.0.0) that is not a request.
   */
  badSender = 0;
  /** A request answered without learning its sender: every entry was in use. */
  notLearned = 0;
  /** A new link address within a second of the entry's last change, ignored (Linux's locktime). */
  locked = 0;
}

/** Counters of IPv4: packets each way, and every reason a packet was dropped. */
export class Ipv4Stats {
  /** IPv4 packets received. */
  packetsIn = 0;
  /** IPv4 packets sent (each fragment counts). */
  packetsOut = 0;
  /** Datagrams handed to a protocol (UDP, TCP, ICMP). */
  delivered = 0;
  /** Packets shorter than their header says. */
  truncated = 0;
  /** Packets whose version is not 4. */
  badVersion = 0;
  /** Packets with a header length under 20 bytes or past the packet. */
  badHeaderLength = 0;
  /** Packets whose total length is impossible. */
  badLength = 0;
  /** Packets with a wrong header checksum. */
  badChecksum = 0;
  /** Martian source: multicast, broadcast, loopback or our own address. */
  badSource = 0;
  /** Not addressed to us (we do not forward). */
  notForUs = 0;
  /** Link-layer broadcast or multicast carrying a unicast IP destination (RFC 1122 §3.3.6). */
  linkBroadcastUnicast = 0;
  /** Datagrams for a protocol the stack does not run (answered with protocol unreachable). */
  unknownProtocol = 0;
  /** Sends with no route to their destination. */
  noRoute = 0;
  /** Fragments received. */
  fragmentsIn = 0;
  /** Datagrams reassembled whole. */
  reassembled = 0;
  /** Datagrams given up: overlap, timeout, too big, too many fragments, slot evicted. */
  reassemblyFailures = 0;
  /** Datagrams given up because their fragments overlapped. */
  reassemblyOverlaps = 0;
  /** Datagrams given up because their fragments stopped coming. */
  reassemblyTimeouts = 0;
  /** Fragments received twice. */
  duplicateFragments = 0;
  /** Fragments sent. */
  fragmentsOut = 0;
  /** No buffer to build an outgoing packet. */
  outNoBuffer = 0;
  /** Sends refused with EAGAIN: the stack already held sendQueue frames. */
  outBlocked = 0;
}

/** Counters of ICMP: messages each way, errors sent and not sent. */
export class IcmpStats {
  /** ICMP messages received. */
  in = 0;
  /** Messages handed to the device (or looped back to ourselves), counted when they leave. */
  out = 0;
  /** Echo requests received. */
  echoRequestsIn = 0;
  /** Echo requests sent by ping sockets. */
  echoRequestsOut = 0;
  /** Echo replies sent. */
  echoRepliesOut = 0;
  /** Echo replies queued on a ping socket. */
  echoRepliesIn = 0;
  /** Echo replies no ping socket wanted. */
  echoRepliesUnwanted = 0;
  /** Echo replies dropped because their ping socket's queue was full. */
  echoRepliesQueueFull = 0;
  /** Errors about something we sent, passed to its protocol. */
  errorsIn = 0;
  /** Errors quoting a datagram that was not ours (its source is not our address). */
  errorsNotOurs = 0;
  /** Errors about a protocol we do not run. */
  errorsNoHandler = 0;
  /** Destination unreachable errors sent. */
  destUnreachableOut = 0;
  /** Time exceeded errors sent (reassembly timeouts). */
  timeExceededOut = 0;
  /** Messages with a wrong checksum. */
  badChecksum = 0;
  /** Messages too short for their type. */
  truncated = 0;
  /** Errors not sent for the rate limit (icmpRate, icmpBurst). */
  rateLimited = 0;
  /** Echo requests to a broadcast or multicast address (ignored, as Linux does by default). */
  broadcastIgnored = 0;
  /** Other messages to a broadcast or multicast address: dropped, as Linux's icmp_rcv does. */
  groupDropped = 0;
  /** Types a host does not act on (redirects, timestamps, router advertisements...). */
  ignoredType = 0;
}

/** Counters of UDP over all sockets. */
export class UdpStats {
  /** Datagrams received. */
  datagramsIn = 0;
  /** Datagrams sent. */
  datagramsOut = 0;
  /** Nobody listens on the port (answered with ICMP port unreachable when unicast). */
  noPort = 0;
  /** Datagrams with a wrong checksum. */
  badChecksum = 0;
  /** Datagrams whose length field disagrees with the packet. */
  badLength = 0;
  /** A socket's receive queue had no room (Linux: RcvbufErrors). */
  receiveBufferErrors = 0;
}

/** Counters of TCP over all connections. */
export class TcpStats {
  /** Segments received. */
  segmentsIn = 0;
  /** Segments sent. */
  segmentsOut = 0;
  /** Shorter than a header, or a data offset that lies. */
  badLength = 0;
  /** Segments with a wrong checksum. */
  badChecksum = 0;
  /** Options that did not parse (what came before the fault was used). */
  badOptions = 0;
  /** Addressed to a broadcast or multicast address: dropped, never answered. */
  groupDropped = 0;
  /** Segments for no connection, answered with a reset. */
  noConnection = 0;
  /** Resets received and accepted. */
  resetsIn = 0;
  /** Resets sent. */
  resetsOut = 0;
  /** Connections opened by connect(). */
  activeOpens = 0;
  /** Connections accepted by a listener. */
  passiveOpens = 0;
  /** Connections that failed while opening (refused, timed out, unreachable). */
  attemptFails = 0;
  /** Established connections reset by the peer or aborted. */
  establishedResets = 0;
  /** SYNs dropped because the listener's queues (or the connection slots) were full. */
  listenDrops = 0;
  /** Segments sent again after a timeout. */
  retransmits = 0;
  /** Retransmission timer expiries. */
  timeouts = 0;
  /** Segments sent again after duplicate ACKs or SACK. */
  fastRetransmits = 0;
  /** RFC 6675 rescue retransmissions: the tail of a window resent once per fast recovery. */
  rescueRetransmits = 0;
  /** D-SACK blocks received (RFC 2883): the peer reports a segment it got twice. */
  dsacksReceived = 0;
  /** Fast recoveries undone: every retransmission of the episode proved needless. */
  recoveryUndos = 0;
  /** Retransmission timeouts undone the same way. */
  timeoutUndos = 0;
  /** Of the undos, those proved by D-SACKs (RFC 3708); the others by timestamps (RFC 3522). */
  dsackUndos = 0;
  /** Segments outside the receive window (answered with an ACK). */
  outOfWindow = 0;
  /** Bare segments outside the window left unanswered because one was answered within the last
   * 500 ms (Linux's tcp_invalid_ratelimit). */
  outOfWindowLimited = 0;
  /** Duplicate data reported back to the sender in a D-SACK block (RFC 2883). */
  dsacksSent = 0;
  /** RFC 7323 PAWS: segments with an old timestamp. */
  pawsDropped = 0;
  /** RFC 5961 challenge ACKs sent, and those the rate limit held back. */
  challengeAcks = 0;
  /** Challenge ACKs (RFC 5961) not sent for their rate limit. */
  challengeAcksLimited = 0;
  /** Segments that arrived ahead of a hole, and those dropped for lack of room to track them. */
  outOfOrder = 0;
  /** Out-of-order segments dropped for want of room or ranges. */
  outOfOrderDropped = 0;
  /** ACKs sent when the delayed-ACK timer ran out. */
  delayedAcks = 0;
  /** Keepalive probes sent. */
  keepaliveProbes = 0;
  /** Zero-window probes sent. */
  persistProbes = 0;
  /** TIME-WAIT entries evicted to make room, and reused by a new SYN. */
  timeWaitEvictions = 0;
  /** TIME-WAIT connections taken over by a new SYN. */
  timeWaitReused = 0;
  /** SYN cookies sent (the SYN queue was full), and ACKs that carried a valid or a bad one. */
  synCookiesSent = 0;
  /** Connections made from a valid SYN cookie. */
  synCookiesValid = 0;
  /** ACKs whose SYN cookie did not check. */
  synCookiesFailed = 0;
  /** Half-open connections given up after their SYN-ACK retries. */
  synQueueTimeouts = 0;
  /** A segment could not be built: no buffer, or the send queue full (retried next poll). */
  outBlocked = 0;
}
