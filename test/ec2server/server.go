// Package ec2server is a local HTTP server speaking the EC2 Query protocol for
// DescribeInstanceTypes, DescribeRegions and DescribeAvailabilityZones, so tests drive the real aws-sdk-go-v2 EC2 client (signing, retries,
// XML deserialisation, pagination) without AWS. It answers form-encoded POSTs with the response
// shape of EC2 API version 2016-11-15 (element names as in the SDK's deserializers.go,
// awsEc2query_deserializeDocumentInstanceTypeInfo / ...NetworkInfo / ...NetworkCardInfo), pages
// with nextToken, and can answer with EC2 error documents (<Response><Errors><Error>...).
// DescribeRegions and DescribeAvailabilityZones answer with the shapes of
// awsEc2query_deserializeDocumentRegion / ...AvailabilityZone; zones are those of the region
// the request is signed for (its SigV4 credential scope), as an EC2 regional endpoint answers.
package ec2server

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// APIVersion is the EC2 API version the SDK sends and the responses' namespace.
const APIVersion = "2016-11-15"

// InstanceType is one type the server describes.
type InstanceType struct {
	Name          string
	VCPUs         int
	Architectures []string
	// Hypervisor is nitro or xen; empty (left out of the response) for bare metal, as EC2 does.
	Hypervisor string
	BareMetal  bool
	// MaxENIs is networkInfo.maximumNetworkInterfaces (all cards together).
	MaxENIs            int
	IPv4PerENI         int
	DefaultNetworkCard int
	Cards              []NetworkCard
}

// NetworkCard is one networkCards item.
type NetworkCard struct {
	Index        int
	MaxENIs      int
	BaselineGbps float64
}

// Fault is an error answer: an EC2 error code with its HTTP status.
type Fault struct {
	Status  int
	Code    string
	Message string
}

// Throttle is what EC2 answers when the account's request rate is exceeded.
var Throttle = Fault{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}

// Unauthorized is a non-retryable error (the caller lacks ec2:DescribeInstanceTypes).
var Unauthorized = Fault{Status: http.StatusForbidden, Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."}

// Request is one request as the server saw it.
type Request struct {
	Action string
	// Region is the region of the request's SigV4 credential scope.
	Region     string
	NextToken  string
	MaxResults int
	// Answered is "ok" or the error code sent.
	Answered string
}

// Region is one region the server describes, and its zones.
type Region struct {
	Name string
	// OptInStatus is opt-in-not-required, opted-in or not-opted-in; a not-opted-in region
	// answers DescribeAvailabilityZones with AuthFailure, as EC2 does.
	OptInStatus string
	Zones       []string
}

// Server serves DescribeInstanceTypes over Types, DescribeRegions and DescribeAvailabilityZones
// over Regions. Set the fields before serving.
type Server struct {
	Types   []InstanceType
	Regions []Region
	// PageSize is the page length when the request has no MaxResults (default 5).
	PageSize int
	// Faults are answered in order to the first len(Faults) requests (e.g. one Throttle).
	Faults []Fault
	// FailPage answers every request for this page (1-based, 0 = never) with FailWith.
	FailPage int
	FailWith Fault

	mu       sync.Mutex
	requests []Request
}

// Requests returns the requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// ServeHTTP implements the EC2 Query protocol for DescribeInstanceTypes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeFault(w, Fault{http.StatusMethodNotAllowed, "InvalidHttpRequest", "The EC2 Query protocol uses POST here"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeFault(w, Fault{http.StatusBadRequest, "MalformedQueryString", err.Error()})
		return
	}
	req := Request{Action: r.PostForm.Get("Action"), NextToken: r.PostForm.Get("NextToken"), Region: signedRegion(r.Header.Get("Authorization"))}
	answer := func(f Fault) {
		req.Answered = f.Code
		s.record(req)
		writeFault(w, f)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=") {
		answer(Fault{http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"})
		return
	}
	switch req.Action {
	case "DescribeInstanceTypes", "DescribeRegions", "DescribeAvailabilityZones":
	default:
		answer(Fault{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", req.Action)})
		return
	}
	if v := r.PostForm.Get("Version"); v != APIVersion {
		answer(Fault{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("Version %q is not %s", v, APIVersion)})
		return
	}
	if req.Action != "DescribeInstanceTypes" {
		s.mu.Lock()
		seen := len(s.requests)
		s.mu.Unlock()
		if seen < len(s.Faults) {
			answer(s.Faults[seen])
			return
		}
		s.serveRegions(w, r, req, answer)
		return
	}
	pageSize := s.PageSize
	if pageSize <= 0 {
		pageSize = 5
	}
	if v := r.PostForm.Get("MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 100 {
			answer(Fault{http.StatusBadRequest, "InvalidParameterValue", "MaxResults must be between 5 and 100"})
			return
		}
		req.MaxResults = n
		// The server pages by its own PageSize so tests see several pages; EC2 may also return
		// fewer than MaxResults.
		pageSize = min(pageSize, n)
	}
	s.mu.Lock()
	seen := len(s.requests)
	s.mu.Unlock()
	if seen < len(s.Faults) {
		answer(s.Faults[seen])
		return
	}
	start := 0
	if req.NextToken != "" {
		n, ok := strings.CutPrefix(req.NextToken, "page-")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i <= 0 || i*pageSize >= len(s.Types) {
			answer(Fault{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("The nextToken %q is not valid", req.NextToken)})
			return
		}
		start = i * pageSize
	}
	if page := start/pageSize + 1; s.FailPage > 0 && page == s.FailPage {
		answer(s.FailWith)
		return
	}
	end := min(start+pageSize, len(s.Types))
	resp := describeResponse{XMLNS: "http://ec2.amazonaws.com/doc/" + APIVersion + "/", RequestID: requestID(len(s.Requests()))}
	for _, t := range s.Types[start:end] {
		resp.Items = append(resp.Items, item(t))
	}
	if end < len(s.Types) {
		resp.NextToken = fmt.Sprintf("page-%d", end/pageSize)
	}
	req.Answered = "ok"
	s.record(req)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", "    ")
	_ = enc.Encode(resp)
}

func requestID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func writeFault(w http.ResponseWriter, f Fault) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(errorResponse{Errors: []errorItem{{Code: f.Code, Message: f.Message}}, RequestID: requestID(0)})
}

// errorResponse is EC2's error document:
// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.
type errorResponse struct {
	XMLName   xml.Name    `xml:"Response"`
	Errors    []errorItem `xml:"Errors>Error"`
	RequestID string      `xml:"RequestID"`
}

type errorItem struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

type describeResponse struct {
	XMLName   xml.Name   `xml:"DescribeInstanceTypesResponse"`
	XMLNS     string     `xml:"xmlns,attr"`
	RequestID string     `xml:"requestId"`
	Items     []typeInfo `xml:"instanceTypeSet>item"`
	NextToken string     `xml:"nextToken,omitempty"`
}

type typeInfo struct {
	InstanceType      string        `xml:"instanceType"`
	CurrentGeneration bool          `xml:"currentGeneration"`
	VCPUInfo          vcpuInfo      `xml:"vCpuInfo"`
	ProcessorInfo     processorInfo `xml:"processorInfo"`
	Hypervisor        string        `xml:"hypervisor,omitempty"`
	BareMetal         bool          `xml:"bareMetal"`
	NetworkInfo       networkInfo   `xml:"networkInfo"`
}

type vcpuInfo struct {
	DefaultVCpus int `xml:"defaultVCpus"`
}

type processorInfo struct {
	Architectures []string `xml:"supportedArchitectures>item"`
}

type networkInfo struct {
	NetworkPerformance       string     `xml:"networkPerformance"`
	MaximumNetworkInterfaces int        `xml:"maximumNetworkInterfaces"`
	MaximumNetworkCards      int        `xml:"maximumNetworkCards"`
	DefaultNetworkCardIndex  int        `xml:"defaultNetworkCardIndex"`
	NetworkCards             []cardInfo `xml:"networkCards>item"`
	IPv4PerInterface         int        `xml:"ipv4AddressesPerInterface"`
	IPv6PerInterface         int        `xml:"ipv6AddressesPerInterface"`
	IPv6Supported            bool       `xml:"ipv6Supported"`
	EnaSupport               string     `xml:"enaSupport"`
}

type cardInfo struct {
	NetworkCardIndex         int     `xml:"networkCardIndex"`
	NetworkPerformance       string  `xml:"networkPerformance"`
	MaximumNetworkInterfaces int     `xml:"maximumNetworkInterfaces"`
	BaselineBandwidthInGbps  float64 `xml:"baselineBandwidthInGbps,omitempty"`
	PeakBandwidthInGbps      float64 `xml:"peakBandwidthInGbps,omitempty"`
}

func item(t InstanceType) typeInfo {
	ti := typeInfo{
		InstanceType: t.Name, CurrentGeneration: true, VCPUInfo: vcpuInfo{t.VCPUs},
		ProcessorInfo: processorInfo{t.Architectures}, Hypervisor: t.Hypervisor, BareMetal: t.BareMetal,
		NetworkInfo: networkInfo{
			NetworkPerformance: "Up to 12.5 Gigabit", MaximumNetworkInterfaces: t.MaxENIs,
			MaximumNetworkCards: len(t.Cards), DefaultNetworkCardIndex: t.DefaultNetworkCard,
			IPv4PerInterface: t.IPv4PerENI, IPv6PerInterface: t.IPv4PerENI, IPv6Supported: true, EnaSupport: "required",
		},
	}
	for _, c := range t.Cards {
		ti.NetworkInfo.NetworkCards = append(ti.NetworkInfo.NetworkCards, cardInfo{
			NetworkCardIndex: c.Index, NetworkPerformance: "Up to 12.5 Gigabit", MaximumNetworkInterfaces: c.MaxENIs,
			BaselineBandwidthInGbps: c.BaselineGbps, PeakBandwidthInGbps: c.BaselineGbps,
		})
	}
	return ti
}

// signedRegion is the region of a SigV4 Authorization header's credential scope
// (Credential=AKID/20260101/eu-west-1/ec2/aws4_request).
func signedRegion(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	parts := strings.Split(strings.SplitN(cred, ",", 2)[0], "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

func (s *Server) serveRegions(w http.ResponseWriter, r *http.Request, req Request, answer func(Fault)) {
	var resp any
	switch req.Action {
	case "DescribeRegions":
		all := r.PostForm.Get("AllRegions") == "true"
		out := describeRegionsResponse{XMLNS: xmlns, RequestID: requestID(len(s.Requests()))}
		for _, reg := range s.Regions {
			if reg.OptInStatus == "not-opted-in" && !all {
				continue
			}
			out.Items = append(out.Items, regionInfo{Name: reg.Name, Endpoint: "ec2." + reg.Name + ".amazonaws.com", OptInStatus: reg.OptInStatus})
		}
		resp = out
	case "DescribeAvailabilityZones":
		var reg *Region
		for i := range s.Regions {
			if s.Regions[i].Name == req.Region {
				reg = &s.Regions[i]
			}
		}
		switch {
		case reg == nil:
			answer(Fault{http.StatusUnauthorized, "AuthFailure", fmt.Sprintf("region %q is not known to this endpoint", req.Region)})
			return
		case reg.OptInStatus == "not-opted-in":
			answer(Fault{http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"})
			return
		}
		out := describeZonesResponse{XMLNS: xmlns, RequestID: requestID(len(s.Requests()))}
		for i, z := range reg.Zones {
			out.Items = append(out.Items, zoneInfo{
				Name: z, State: "available", Region: reg.Name, ID: fmt.Sprintf("%s-az%d", reg.Name, i+1),
				Type: "availability-zone", OptInStatus: "opt-in-not-required", GroupName: reg.Name, NetworkBorderGroup: reg.Name,
			})
		}
		resp = out
	}
	req.Answered = "ok"
	s.record(req)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", "    ")
	_ = enc.Encode(resp)
}

const xmlns = "http://ec2.amazonaws.com/doc/" + APIVersion + "/"

type describeRegionsResponse struct {
	XMLName   xml.Name     `xml:"DescribeRegionsResponse"`
	XMLNS     string       `xml:"xmlns,attr"`
	RequestID string       `xml:"requestId"`
	Items     []regionInfo `xml:"regionInfo>item"`
}

type regionInfo struct {
	Name        string `xml:"regionName"`
	Endpoint    string `xml:"regionEndpoint"`
	OptInStatus string `xml:"optInStatus"`
}

type describeZonesResponse struct {
	XMLName   xml.Name   `xml:"DescribeAvailabilityZonesResponse"`
	XMLNS     string     `xml:"xmlns,attr"`
	RequestID string     `xml:"requestId"`
	Items     []zoneInfo `xml:"availabilityZoneInfo>item"`
}

type zoneInfo struct {
	Name               string `xml:"zoneName"`
	State              string `xml:"zoneState"`
	Region             string `xml:"regionName"`
	ID                 string `xml:"zoneId"`
	Type               string `xml:"zoneType"`
	OptInStatus        string `xml:"optInStatus"`
	GroupName          string `xml:"groupName"`
	NetworkBorderGroup string `xml:"networkBorderGroup"`
}
