<#
.SYNOPSIS
    Collects, read-only, the exports that exaudit reads from every Exchange server of the organisation, and records
    in manifest.json what each cmdlet returned for each server: ok, empty, partial or failed.

.DESCRIPTION
    It changes nothing on any server: it runs Get-* cmdlets and read-only queries (services, the ExSetup.exe file
    version, a few registry values, IIS bindings) and writes files below -OutputFolder on this machine. Every
    cmdlet and server gets one line on the console as it finishes and one entry in manifest.json: ok (n objects),
    empty (the cmdlet answered with nothing: an export with no objects is written), partial (some objects came
    back, with errors: both kept) or failed (the error). exaudit uses these entries: a failure makes the rules
    that needed the data "not evaluated" with the error, never a pass.

    SUPPORTED: Exchange 2010 SP3 (Windows PowerShell 2.0) to Exchange Server SE (Windows PowerShell 5.1), in the
    Exchange Management Shell on an Exchange server or on a workstation with the Exchange management tools, or in
    a session that imported the Exchange cmdlets (Import-PSSession). Exchange 2007 (PowerShell 1.0, which has no
    try/catch) is not supported: export its cmdlets by hand as docs/collection.md lists them.
    Edge Transport servers are not domain members and cannot be reached from the organisation: run this script on
    each Edge server with -EdgeLocal and scan its bundle together with the organisation's
    (exaudit scan org.zip edge.zip).

    RIGHTS:
      * Exchange cmdlets: the View-Only Organization Management role group.
      * Services, ExSetup.exe, registry values and IIS settings are read on each server through PowerShell
        remoting (Invoke-Command, WinRM on port 5985/5986), which needs local administrator rights on the server
        or an equivalent JEA/remoting delegation; without remoting, services are read over WMI/DCOM.

    EXECUTION POLICY: RemoteSigned (itself a STIG requirement) runs this script once it is unblocked:
        Unblock-File .\exaudit-collect.ps1
    Where the policy is AllSigned, sign it with your code-signing certificate first:
        Set-AuthenticodeSignature .\exaudit-collect.ps1 (Get-ChildItem Cert:\CurrentUser\My -CodeSigningCert)[0]
    (that changes the script file on this machine, nothing on any server).

    AFTERWARDS: copy the zip to the machine with exaudit, run "exaudit scan <bundle>.zip" and open report.html.

.PARAMETER OutputFolder
    Where the exports go (created; relative paths are taken from the current location). Default: a new folder
    exaudit-bundle-<UTC time> here.
.PARAMETER Servers
    Collect only these Exchange servers (by name); the organisation-wide exports are collected as well.
.PARAMETER TimeoutSeconds
    How long the read-only queries on one server (services, ExSetup.exe, registry, IIS) may take before that
    server's host facts are recorded as failed. Exchange cmdlets run in the Exchange session under its own limits.
.PARAMETER ThrottleLimit
    How many servers are queried at the same time.
.PARAMETER Resume
    Collect into an existing -OutputFolder only what its manifest.json records as failed or partial (or never
    reached). Needs Windows PowerShell 3.0 or later.
.PARAMETER EdgeLocal
    Run on an Edge Transport server itself: collects what its local shell has.
.PARAMETER NoZip
    Leave the folder unzipped.

.EXAMPLE
    .\exaudit-collect.ps1 -OutputFolder C:\Temp\exaudit
.EXAMPLE
    .\exaudit-collect.ps1 -OutputFolder C:\Temp\exaudit -Resume
#>
[CmdletBinding()]
param(
    [string]$OutputFolder = ("exaudit-bundle-" + (Get-Date).ToUniversalTime().ToString("yyyyMMdd-HHmmss")),
    [string[]]$Servers = @(),
    [int]$TimeoutSeconds = 300,
    [int]$ThrottleLimit = 8,
    [switch]$Resume,
    [switch]$EdgeLocal,
    [switch]$NoZip
)

$CollectorVersion = "2.0"
$ScriptFile = $MyInvocation.MyCommand.Path
$Invocation = $MyInvocation.Line
$ErrorActionPreference = "Continue"

# -- Where it runs ------------------------------------------------------------------------------------------------

if (-not (Get-Command Get-ExchangeServer -ErrorAction SilentlyContinue)) {
    Write-Host "exaudit: Get-ExchangeServer is not available in this shell. Run the script in the Exchange Management Shell (or import an Exchange session first). Nothing was collected." -ForegroundColor Red
    exit 2
}
# .NET resolves relative paths against the process's directory, not PowerShell's location: resolve once, here.
$OutputFolder = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutputFolder)
$ManifestPath = Join-Path $OutputFolder "manifest.json"
if ($Resume -and -not (Test-Path -LiteralPath $ManifestPath)) {
    Write-Host "exaudit: -Resume needs the manifest.json of an earlier run in $OutputFolder." -ForegroundColor Red
    exit 2
}
if ($Resume -and -not (Get-Command ConvertFrom-Json -ErrorAction SilentlyContinue)) {
    Write-Host "exaudit: -Resume needs Windows PowerShell 3.0 or later; run the whole collection again instead." -ForegroundColor Red
    exit 2
}
[void][System.IO.Directory]::CreateDirectory($OutputFolder)

# -- Helpers -------------------------------------------------------------------------------------------------------

$script:Results = @()
$script:Kept = @{}

function Test-Cmdlet {
    param([string]$Name)
    return [bool](Get-Command $Name -ErrorAction SilentlyContinue)
}

function Get-OptionalParameters {
    # Parameters to splat when this Exchange version's cmdlet has them (-ADPropertiesOnly came with 2013).
    param([string]$Cmdlet, [hashtable]$Wanted)
    $found = @{}
    $command = Get-Command $Cmdlet -ErrorAction SilentlyContinue
    if ($command) {
        foreach ($key in $Wanted.Keys) {
            if ($command.Parameters.ContainsKey($key)) { $found[$key] = $Wanted[$key] }
        }
    }
    return $found
}

function Get-Sha256Hex {
    param([string]$Path)
    $stream = [System.IO.File]::OpenRead($Path)
    try {
        $sha = [System.Security.Cryptography.SHA256]::Create()
        return ([System.BitConverter]::ToString($sha.ComputeHash($stream)) -replace "-", "").ToLowerInvariant()
    } finally { $stream.Dispose() }
}

function ConvertTo-JsonText {
    # ConvertTo-Json does not exist in Windows PowerShell 2.0; the manifest is simple enough to write by hand.
    param($Value)
    if ($null -eq $Value) { return "null" }
    if ($Value -is [bool]) { if ($Value) { return "true" } else { return "false" } }
    if ($Value -is [int] -or $Value -is [long]) { return [string]$Value }
    if ($Value -is [System.Collections.IDictionary]) {
        $pairs = foreach ($key in ($Value.Keys | Sort-Object)) { '"' + $key + '": ' + (ConvertTo-JsonText $Value[$key]) }
        return "{" + ($pairs -join ", ") + "}"
    }
    if ($Value -is [System.Collections.IEnumerable] -and -not ($Value -is [string])) {
        $items = foreach ($item in $Value) { ConvertTo-JsonText $item }
        return "[" + ($items -join ",`n ") + "]"
    }
    $text = [string]$Value
    $text = $text.Replace("\", "\\").Replace('"', '\"').Replace("`r", "\r").Replace("`n", "\n").Replace("`t", "\t")
    if ($text -match "[\x00-\x1f]") {
        $escaped = ""
        foreach ($char in $text.ToCharArray()) {
            if ([int]$char -lt 32) { $escaped += "\u{0:x4}" -f [int]$char } else { $escaped += $char }
        }
        $text = $escaped
    }
    return '"' + $text + '"'
}

function Write-Result {
    # One cmdlet x server outcome: on the console now, in the manifest at the end.
    param([string]$Path, [string]$Cmdlet, [string]$Server, [string]$Command, [string]$Status, [int]$Objects,
          [string[]]$Errors, [double]$Seconds)
    $shown = @($Errors | Select-Object -First 5)
    $script:Results += @{
        path = $Path.Replace("\", "/"); cmdlet = $Cmdlet; server = $Server; command = $Command; status = $Status
        objects = $Objects; errors = $shown; error_count = @($Errors).Count; seconds = [int][math]::Round($Seconds)
    }
    $colour = @{ ok = "Green"; empty = "Gray"; partial = "Yellow"; failed = "Red"; unavailable = "Gray"; skipped = "Gray" }[$Status]
    $detail = "$Status"
    if ($Status -eq "ok" -or $Status -eq "partial") { $detail = "$Status, $Objects object(s)" }
    if ($shown.Count -gt 0) { $detail = "$detail - " + $shown[0] }
    Write-Host ("  {0,-52} {1}" -f $Path, $detail) -ForegroundColor $colour
}

function Test-Kept {
    # With -Resume: a result the earlier run already has (ok, empty, unavailable or skipped) is not collected again.
    param([string]$Path)
    $key = $Path.Replace("\", "/").ToLowerInvariant()
    if ($script:Kept.ContainsKey($key)) {
        Write-Host ("  {0,-52} kept from the earlier run ({1})" -f $Path, $script:Kept[$key].status) -ForegroundColor Gray
        return $true
    }
    return $false
}

function Save-Export {
    # Runs one query and streams its objects to an Export-Clixml file: nothing large is held in memory. Errors
    # the cmdlet writes (Exchange cmdlet errors do not stop it, so try/catch alone never sees them) are collected
    # from the error stream; a terminating error is caught. An empty answer still writes a file with no objects.
    param([string]$Path, [string]$Cmdlet, [string]$Server, [scriptblock]$Query)
    if (Test-Kept $Path) { return }
    $target = Join-Path $OutputFolder $Path
    [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($target))
    $count = 0
    $errors = @()
    $started = Get-Date
    try {
        # ForEach-Object runs its block in this scope, so $count and $errors are this function's.
        & $Query 2>&1 | ForEach-Object {
            if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors += [string]$_.Exception.Message }
            elseif ($null -ne $_) { $count++; $_ }
        } | Export-Clixml -Path $target -Depth 3
    } catch {
        $errors += [string]$_.Exception.Message
    }
    $status = "ok"
    if ($errors.Count -gt 0 -and $count -eq 0) { $status = "failed" }
    elseif ($errors.Count -gt 0) { $status = "partial" }
    elseif ($count -eq 0) { $status = "empty" }
    if ($status -eq "failed" -and (Test-Path -LiteralPath $target)) { [System.IO.File]::Delete($target) }
    $command = ($Query.ToString().Trim() -replace "\s+", " ")
    if ($Server) { $command = $command.Replace('$name', "'$Server'") }  # the command as it ran for this server
    Write-Result $Path $Cmdlet $Server $command $status $count $errors ((Get-Date) - $started).TotalSeconds
}

function Save-Objects {
    # Objects already in hand (a remote job's answer) written like Save-Export's.
    param([string]$Path, [string]$Cmdlet, [string]$Server, [string]$Command, [object[]]$Objects, [string[]]$Errors, [double]$Seconds)
    $target = Join-Path $OutputFolder $Path
    [void][System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($target))
    $status = "ok"
    if (@($Errors).Count -gt 0 -and $Objects.Count -eq 0) { $status = "failed" }
    elseif (@($Errors).Count -gt 0) { $status = "partial" }
    elseif ($Objects.Count -eq 0) { $status = "empty" }
    if ($status -ne "failed") { $Objects | Export-Clixml -Path $target -Depth 3 }
    Write-Result $Path $Cmdlet $Server $Command $status $Objects.Count $Errors $Seconds
}

function Write-NotCollected {
    # A cmdlet this server's version or roles do not have (unavailable) or that is run elsewhere (skipped).
    param([string]$Path, [string]$Cmdlet, [string]$Server, [string]$Status, [string]$Reason)
    if (Test-Kept $Path) { return }
    Write-Result $Path $Cmdlet $Server "" $Status 0 @($Reason) 0
}

function Save-IfAvailable {
    # Organisation-wide or per-server cmdlets that exist only in some versions or with some roles' agents.
    param([string]$Path, [string]$Cmdlet, [string]$Server, [scriptblock]$Query)
    if (Test-Cmdlet $Cmdlet) { Save-Export $Path $Cmdlet $Server $Query }
    else { Write-NotCollected $Path $Cmdlet $Server "unavailable" "$Cmdlet does not exist in this shell (Exchange version, role or agents not installed)" }
}

# -- Read-only queries run on each server (PowerShell remoting) ---------------------------------------------------

$HostFacts = {
    # Each object is tagged with the export it belongs to; a failed query answers with an error object instead,
    # and a query this server cannot have (no IIS on an Edge server) with a reason.
    function Out-Fact {
        param([string]$Fact, $InputObject)
        foreach ($item in @($InputObject)) {
            if ($null -ne $item) { Add-Member -InputObject $item -MemberType NoteProperty -Name exauditFact -Value $Fact -Force -PassThru }
        }
    }
    function Out-Failure {
        param([string]$Fact, [string]$Message, [switch]$Unavailable)
        $failure = "" | Select-Object -Property @("exauditFact", "exauditError", "exauditUnavailable")
        $failure.exauditFact = $Fact
        $failure.exauditError = $Message
        $failure.exauditUnavailable = [bool]$Unavailable
        $failure
    }
    try { Out-Fact "win32_service" (Get-WmiObject -Class Win32_Service -Filter "Name LIKE 'MSExchange%'" -ErrorAction Stop) } catch { Out-Failure "win32_service" $_.Exception.Message }
    try {
        $exsetup = Join-Path $env:ExchangeInstallPath "Bin\ExSetup.exe"
        Out-Fact "exsetup" ((Get-Item -LiteralPath $exsetup -ErrorAction Stop).VersionInfo)
    } catch { Out-Failure "exsetup" $_.Exception.Message }
    try { Out-Fact "execution_policy" (Get-ExecutionPolicy -List) } catch { Out-Failure "execution_policy" $_.Exception.Message }
    $values = @(
        "HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319|SchUseStrongCrypto",
        "HKLM:\SOFTWARE\WOW6432Node\Microsoft\.NETFramework\v4.0.30319|SchUseStrongCrypto",
        "HKLM:\SYSTEM\CurrentControlSet\Services\MSExchangePOP3|Start",
        "HKLM:\SYSTEM\CurrentControlSet\Services\MSExchangeIMAP4|Start"
    )
    foreach ($pair in $values) {
        $key, $name = $pair.Split("|")
        $value = "" | Select-Object -Property @("Key", "Name", "Present", "Value")
        $value.Key = $key
        $value.Name = $name
        $item = Get-ItemProperty -LiteralPath $key -Name $name -ErrorAction SilentlyContinue
        $value.Present = $null -ne $item
        if ($item) { $value.Value = $item.$name }
        Out-Fact "registry" $value
    }
    $iis = $true
    try { Import-Module WebAdministration -ErrorAction Stop } catch {
        $iis = $false
        Out-Failure "web_binding" "IIS's WebAdministration module is not installed" -Unavailable
        Out-Failure "owa_ssl" "IIS's WebAdministration module is not installed" -Unavailable
    }
    if ($iis) {
        try { Out-Fact "web_binding" (Get-WebBinding -ErrorAction Stop) } catch { Out-Failure "web_binding" $_.Exception.Message }
        try {
            $owa = "" | Select-Object -Property @("Location", "Filter", "SslFlags")
            $owa.Location = "Default Web Site/owa"
            $owa.Filter = "system.webServer/security/access"
            $owa.SslFlags = [string](Get-WebConfigurationProperty -PSPath "IIS:\" -Location $owa.Location -Filter $owa.Filter -Name sslFlags -ErrorAction Stop)
            Out-Fact "owa_ssl" $owa
        } catch { Out-Failure "owa_ssl" $_.Exception.Message }
    }
}

# The exports the host facts become: the fact's tag, its file and the command it stands for. Services are read
# as Win32_Service only: it has the start mode on every Windows version (Get-Service's StartType needs .NET 4.6.1
# on the server), and one export per server means one row per service.
$HostFactFiles = @(
    @{ Fact = "win32_service"; File = "Win32_Service.xml"; Cmdlet = "Get-WmiObject Win32_Service"; Command = "Get-WmiObject -Class Win32_Service -Filter ""Name LIKE 'MSExchange%'""" },
    @{ Fact = "exsetup"; File = "ExSetup.xml"; Cmdlet = "ExSetup.exe VersionInfo"; Command = "(Get-Item `$env:ExchangeInstallPath\Bin\ExSetup.exe).VersionInfo" },
    @{ Fact = "execution_policy"; File = "Get-ExecutionPolicy.xml"; Cmdlet = "Get-ExecutionPolicy"; Command = "Get-ExecutionPolicy -List" },
    @{ Fact = "registry"; File = "Registry.xml"; Cmdlet = "Get-ItemProperty"; Command = "Get-ItemProperty (SchUseStrongCrypto; POP3 and IMAP4 service Start)" },
    @{ Fact = "web_binding"; File = "Get-WebBinding.xml"; Cmdlet = "Get-WebBinding"; Command = "Get-WebBinding" },
    @{ Fact = "owa_ssl"; File = "OwaSslFlags.xml"; Cmdlet = "Get-WebConfigurationProperty"; Command = "Get-WebConfigurationProperty system.webServer/security/access sslFlags (Default Web Site/owa)" }
)

function Save-HostFactAnswer {
    param([string]$Name, [object[]]$Objects, [string]$Failure, [double]$Seconds)
    foreach ($file in $HostFactFiles) {
        $path = "$Name\" + $file.File
        if ($Failure -and $file.Fact -eq "win32_service") { continue }  # read over WMI instead (Save-ServicesOverWmi)
        if (Test-Kept $path) { continue }
        $tagged = @($Objects | Where-Object { $_.exauditFact -eq $file.Fact })
        $lacking = @($tagged | Where-Object { $_.exauditUnavailable })
        if ($lacking.Count -gt 0) {
            Write-NotCollected $path $file.Cmdlet $Name "unavailable" ([string]$lacking[0].exauditError)
            continue
        }
        $errors = @($tagged | Where-Object { $_.exauditError } | ForEach-Object { [string]$_.exauditError })
        if ($Failure) { $errors += $Failure }
        $data = @($tagged | Where-Object { -not $_.exauditError })
        Save-Objects $path $file.Cmdlet $Name $file.Command $data $errors $Seconds
    }
}

function Test-HostFactsMissing {
    # With -Resume, a server is asked again when any of its host-fact exports is not kept from the earlier run.
    param([string]$Name)
    $missing = @($HostFactFiles | Where-Object { -not $script:Kept.ContainsKey(("$Name/" + $_.File).ToLowerInvariant()) })
    return $missing.Count -gt 0
}

function Save-HostFacts {
    # One remote job per server, at most -ThrottleLimit at a time, each given -TimeoutSeconds.
    param([object[]]$Targets)
    $running = @{}
    $index = 0
    while ($index -lt $Targets.Count -or $running.Count -gt 0) {
        while ($index -lt $Targets.Count -and $running.Count -lt $ThrottleLimit) {
            $target = $Targets[$index]
            $index++
            $job = Invoke-Command -ComputerName $target.Fqdn -ScriptBlock $HostFacts -AsJob
            $running[$job.Id] = @{ Name = $target.Name; Fqdn = $target.Fqdn; Job = $job; Started = (Get-Date) }
        }
        $jobs = @($running.Values | ForEach-Object { $_.Job })
        [void](Wait-Job -Job $jobs -Any -Timeout 5)
        foreach ($id in @($running.Keys)) {
            $entry = $running[$id]
            $state = [string]$entry.Job.State
            $seconds = ((Get-Date) - $entry.Started).TotalSeconds
            $late = $seconds -ge $TimeoutSeconds
            if (($state -eq "Running" -or $state -eq "NotStarted") -and -not $late) { continue }
            $running.Remove($id)
            $failure = $null
            if ($state -eq "Running" -or $state -eq "NotStarted") {
                Stop-Job -Job $entry.Job  # the collector's own background job
                $failure = "no answer within $TimeoutSeconds s (-TimeoutSeconds)"
            } elseif ($state -eq "Failed") {
                $failure = [string]$entry.Job.ChildJobs[0].JobStateInfo.Reason.Message
                if (-not $failure) { $failure = "the remote job failed without a message" }
            }
            $objects = @(Receive-Job -Job $entry.Job -ErrorAction SilentlyContinue)
            Save-HostFactAnswer $entry.Name $objects $failure $seconds
            if ($failure) { Save-ServicesOverWmi $entry.Name $entry.Fqdn }
        }
    }
}

function Save-ServicesOverWmi {
    # Remoting failed: the services are still readable over WMI/DCOM, which needs no WinRM.
    param([string]$Name, [string]$Fqdn)
    $path = "$Name\Win32_Service.xml"
    Save-Export $path "Get-WmiObject Win32_Service" $Name { Get-WmiObject -Class Win32_Service -ComputerName $Fqdn -Filter "Name LIKE 'MSExchange%'" -ErrorAction Stop }
}

# -- What to collect ------------------------------------------------------------------------------------------------

$CasMailboxProperties = @("Name", "DisplayName", "PrimarySmtpAddress", "SamAccountName", "PopEnabled", "ImapEnabled",
    "PopUseProtocolDefaults", "ImapUseProtocolDefaults", "MAPIEnabled", "OWAEnabled", "ActiveSyncEnabled", "ServerName",
    "Identity", "DistinguishedName", "Guid")
$MailboxProperties = @("Name", "DisplayName", "PrimarySmtpAddress", "RecipientTypeDetails", "Database", "ServerName",
    "ForwardingAddress", "ForwardingSmtpAddress", "DeliverToMailboxAndForward", "Identity", "DistinguishedName", "Guid")
$UserProperties = @("Name", "UserPrincipalName", "WindowsEmailAddress", "RecipientTypeDetails", "AuthenticationPolicy",
    "Identity", "DistinguishedName", "Guid")
# A local export of a certificate keeps only RawData readable; these are what Exchange shows.
$CertificateProperties = @("Thumbprint", "Subject", "Issuer", "CertificateDomains", "Services", "Status",
    "HasPrivateKey", "IsSelfSigned", "NotBefore", "NotAfter", "PublicKeySize", "RawData", "Identity")

function Save-OrganisationExports {
    Save-Export "Get-OrganizationConfig.xml" "Get-OrganizationConfig" "" { Get-OrganizationConfig }
    Save-Export "Get-CASMailbox.xml" "Get-CASMailbox" "" { Get-CASMailbox -ResultSize Unlimited | Select-Object -Property $CasMailboxProperties }
    Save-Export "Get-Mailbox.xml" "Get-Mailbox" "" { Get-Mailbox -ResultSize Unlimited | Select-Object -Property $MailboxProperties }
    Save-IfAvailable "Get-AuthenticationPolicy.xml" "Get-AuthenticationPolicy" "" { Get-AuthenticationPolicy }
    if (Test-Cmdlet "Get-AuthenticationPolicy") {
        Save-Export "Get-User.xml" "Get-User" "" { Get-User -ResultSize Unlimited | Select-Object -Property $UserProperties }
    }
    # For the hardening baselines (DISA STIG, CIS): organisation-wide objects, read from Active Directory.
    Save-Export "Get-AcceptedDomain.xml" "Get-AcceptedDomain" "" { Get-AcceptedDomain }
    Save-Export "Get-RemoteDomain.xml" "Get-RemoteDomain" "" { Get-RemoteDomain }
    Save-Export "Get-SendConnector.xml" "Get-SendConnector" "" { Get-SendConnector }
    Save-Export "Get-TransportConfig.xml" "Get-TransportConfig" "" { Get-TransportConfig }
    Save-Export "Get-MailboxDatabase.xml" "Get-MailboxDatabase" "" { Get-MailboxDatabase }
    Save-IfAvailable "Get-AdminAuditLogConfig.xml" "Get-AdminAuditLogConfig" "" { Get-AdminAuditLogConfig }
    Save-IfAvailable "Get-RpcClientAccess.xml" "Get-RpcClientAccess" "" { Get-RpcClientAccess }
    Save-IfAvailable "Get-DatabaseAvailabilityGroup.xml" "Get-DatabaseAvailabilityGroup" "" { Get-DatabaseAvailabilityGroup }
    Save-IfAvailable "Get-EdgeSubscription.xml" "Get-EdgeSubscription" "" { Get-EdgeSubscription }
    Save-IfAvailable "Get-MobileDeviceMailboxPolicy.xml" "Get-MobileDeviceMailboxPolicy" "" { Get-MobileDeviceMailboxPolicy }
    Save-IfAvailable "Get-RoleGroup.xml" "Get-RoleGroup" "" { Get-RoleGroup }
    Save-IfAvailable "Get-RoleGroupMember.xml" "Get-RoleGroupMember" "" { Get-RoleGroup | ForEach-Object { $group = $_.Name; Get-RoleGroupMember -Identity $_.Identity -ResultSize Unlimited | Select-Object -Property @(@{ Name = "RoleGroup"; Expression = { $group } }, "Name", "RecordType", "PrimarySmtpAddress", "Identity", "DistinguishedName") } }
    if (Test-Cmdlet "Get-TransportService") { Save-Export "Get-TransportService.xml" "Get-TransportService" "" { Get-TransportService } }
    else { Save-IfAvailable "Get-TransportServer.xml" "Get-TransportServer" "" { Get-TransportServer } }
    foreach ($cmdlet in @("Get-ContentFilterConfig", "Get-SenderFilterConfig", "Get-SenderIdConfig", "Get-SenderReputationConfig", "Get-RecipientFilterConfig", "Get-IPAllowListConfig", "Get-IPBlockListProvider")) {
        # Present on Mailbox servers only after Install-AntiSpamAgents.ps1: their absence is recorded, not an error.
        Save-IfAvailable "$cmdlet.xml" $cmdlet "" ([scriptblock]::Create($cmdlet))
    }
    foreach ($cmdlet in @("Get-OwaVirtualDirectory", "Get-EcpVirtualDirectory", "Get-WebServicesVirtualDirectory", "Get-ActiveSyncVirtualDirectory", "Get-AutodiscoverVirtualDirectory", "Get-MapiVirtualDirectory", "Get-OutlookAnywhere")) {
        # -ADPropertiesOnly (2013 and later) reads Active Directory only: no IIS query on every server.
        Save-IfAvailable "$cmdlet.xml" $cmdlet "" ([scriptblock]::Create("`$p = Get-OptionalParameters '$cmdlet' @{ ADPropertiesOnly = `$true }; $cmdlet @p"))
    }
}

function Save-ServerExports {
    param($Server)
    $name = [string]$Server.Name
    $major = 0
    if ($Server.AdminDisplayVersion -and $Server.AdminDisplayVersion.Major) { $major = [int]$Server.AdminDisplayVersion.Major }
    elseif ([string]$Server.AdminDisplayVersion -match "Version (\d+)\.") { $major = [int]$Matches[1] }
    $modern = $major -ge 15
    $clientAccess = [bool]$Server.IsClientAccessServer
    $mailbox = [bool]$Server.IsMailboxServer
    $transport = $modern -or [bool]$Server.IsHubTransportServer
    Write-Host "$name (Exchange major version $major)"
    if ($clientAccess) {  # 2016 and later: every Mailbox server (IsClientAccessServer is true there)
        Save-Export "$name\Get-PopSettings.xml" "Get-PopSettings" $name { Get-PopSettings -Server $name }
        Save-Export "$name\Get-ImapSettings.xml" "Get-ImapSettings" $name { Get-ImapSettings -Server $name }
    } else {
        Write-NotCollected "$name\Get-PopSettings.xml" "Get-PopSettings" $name "skipped" "no Client Access role"
        Write-NotCollected "$name\Get-ImapSettings.xml" "Get-ImapSettings" $name "skipped" "no Client Access role"
    }
    Save-Export "$name\Get-ExchangeCertificate.xml" "Get-ExchangeCertificate" $name { Get-ExchangeCertificate -Server $name | Select-Object -Property $CertificateProperties }
    if ($transport) { Save-Export "$name\Get-ReceiveConnector.xml" "Get-ReceiveConnector" $name { Get-ReceiveConnector -Server $name } }
    Save-Export "$name\Get-EventLogLevel.xml" "Get-EventLogLevel" $name { Get-EventLogLevel -Server $name }
    if ($modern) {
        Save-Export "$name\Get-ServerComponentState.xml" "Get-ServerComponentState" $name { Get-ServerComponentState -Identity $name }
    }
    if ($modern -and $mailbox) {
        Save-IfAvailable "$name\Get-MalwareFilteringServer.xml" "Get-MalwareFilteringServer" $name { Get-MalwareFilteringServer -Identity $name }
    }
    if ($mailbox) {
        Save-Export "$name\Get-MailboxDatabaseCopyStatus.xml" "Get-MailboxDatabaseCopyStatus" $name { Get-MailboxDatabaseCopyStatus -Server $name }
    }
    # The IP Allow list lives on each server (only with the anti-spam agents on a Mailbox server).
    Save-IfAvailable "$name\Get-IPAllowListEntry.xml" "Get-IPAllowListEntry" $name { Get-IPAllowListEntry -Server $name }
}

function Save-EdgeExports {
    # On the Edge server itself: its local shell reads its own AD LDS copy; no -Server anywhere.
    $name = [string]$env:COMPUTERNAME
    foreach ($cmdlet in @("Get-ReceiveConnector", "Get-SendConnector", "Get-TransportConfig", "Get-AcceptedDomain", "Get-TransportAgent",
                          "Get-EventLogLevel", "Get-OrganizationConfig", "Get-ContentFilterConfig", "Get-SenderFilterConfig",
                          "Get-SenderIdConfig", "Get-SenderReputationConfig", "Get-RecipientFilterConfig", "Get-AttachmentFilterEntry",
                          "Get-IPBlockListProvider", "Get-IPAllowListEntry", "Get-IPAllowListConfig", "Get-TransportService")) {
        Save-IfAvailable "$name\$cmdlet.xml" $cmdlet $name ([scriptblock]::Create($cmdlet))
    }
    Save-Export "$name\Get-ExchangeCertificate.xml" "Get-ExchangeCertificate" $name { Get-ExchangeCertificate | Select-Object -Property $CertificateProperties }
    $started = Get-Date
    $objects = @(& $HostFacts)
    Save-HostFactAnswer $name $objects $null ((Get-Date) - $started).TotalSeconds
}

# -- The manifest ---------------------------------------------------------------------------------------------------

function Read-EarlierRun {
    # -Resume: what the earlier run collected stays; what failed, was partial or never ran is collected again.
    $earlier = Get-Content -LiteralPath $ManifestPath -Raw | ConvertFrom-Json
    foreach ($result in @($earlier.results)) {
        if (@("ok", "empty", "unavailable", "skipped") -contains [string]$result.status) {
            $script:Kept[([string]$result.path).ToLowerInvariant()] = $result
            $script:Results += @{
                path = [string]$result.path; cmdlet = [string]$result.cmdlet; server = [string]$result.server
                command = [string]$result.command; status = [string]$result.status; objects = [int]$result.objects
                errors = @($result.errors | ForEach-Object { [string]$_ }); error_count = [int]$result.error_count
                seconds = [int]$result.seconds
            }
        }
    }
}

function Get-CultureRecord {
    # How this session writes dates and its zone: exaudit reads a text export's dates by them (docs/formats.md).
    $format = (Get-Culture).DateTimeFormat
    $offset = [System.TimeZoneInfo]::Local.GetUtcOffset((Get-Date))
    $sign = "+"
    if ($offset.Ticks -lt 0) { $sign = "-" }
    return @{
        name = [string](Get-Culture).Name
        short_date_pattern = [string]$format.ShortDatePattern
        long_time_pattern = [string]$format.LongTimePattern
        am_designator = [string]$format.AMDesignator
        pm_designator = [string]$format.PMDesignator
        calendar = [string]$format.Calendar.GetType().Name
        time_zone_id = [string][System.TimeZoneInfo]::Local.Id
        utc_offset = $sign + [math]::Abs($offset.Hours).ToString("00") + ":" + [math]::Abs($offset.Minutes).ToString("00")
    }
}

function Write-Manifest {
    param([object[]]$ExchangeServers)
    $files = @()
    foreach ($result in $script:Results) {
        $full = Join-Path $OutputFolder $result.path
        if ($result.status -ne "failed" -and $result.status -ne "unavailable" -and $result.status -ne "skipped" -and (Test-Path -LiteralPath $full)) {
            $files += @{ path = $result.path; cmdlet = $result.cmdlet; server = $result.server; sha256 = (Get-Sha256Hex $full) }
        }
    }
    $culture = @{}
    try { $culture = Get-CultureRecord } catch { Write-Warning "the session's culture could not be recorded: $_" }
    $scriptHash = $null
    if ($ScriptFile) { $scriptHash = Get-Sha256Hex $ScriptFile }
    $serverList = foreach ($server in $ExchangeServers) {
        @{ name = [string]$server.Name; fqdn = [string]$server.Fqdn; version = [string]$server.AdminDisplayVersion; roles = [string]$server.ServerRole; edge = [bool]$server.IsEdgeServer }
    }
    $organization = ""
    try { $organization = [string](Get-OrganizationConfig).Name } catch { }
    $manifest = @{
        collector = @{ version = $CollectorVersion; sha256 = $scriptHash; command_line = [string]$Invocation; edge_local = [bool]$EdgeLocal }
        culture = $culture
        organization = $organization
        exported_at = (Get-Date).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ")
        powershell_version = [string]$PSVersionTable.PSVersion
        exchange_version = [string]($ExchangeServers | Select-Object -First 1).AdminDisplayVersion
        servers = @($serverList)
        files = @($files)
        results = @($script:Results)
    }
    # File.WriteAllText writes UTF-8 without a BOM.
    [System.IO.File]::WriteAllText($ManifestPath, (ConvertTo-JsonText $manifest))
}

# -- The run --------------------------------------------------------------------------------------------------------

Write-Host "exaudit collection $CollectorVersion (read-only) into $OutputFolder"
if ($Resume) { Read-EarlierRun }
$exchangeServers = @()
try {
    Save-Export "Get-ExchangeServer.xml" "Get-ExchangeServer" "" { Get-ExchangeServer }
    $exchangeServers = @(Get-ExchangeServer)
    if ($EdgeLocal) {
        Save-EdgeExports
    } else {
        $chosen = @($exchangeServers | Where-Object { $Servers.Count -eq 0 -or $Servers -contains [string]$_.Name })
        foreach ($wanted in $Servers) {
            if (-not ($exchangeServers | Where-Object { [string]$_.Name -eq $wanted })) {
                Write-NotCollected "$wanted\Get-ExchangeServer.xml" "Get-ExchangeServer" $wanted "failed" "$wanted is not an Exchange server of this organisation"
            }
        }
        Save-OrganisationExports
        $remote = @()
        foreach ($server in $chosen) {
            if ($server.IsEdgeServer) {
                Write-NotCollected "$($server.Name)\Edge.xml" "(Edge Transport server)" ([string]$server.Name) "skipped" "an Edge Transport server: run this script on it with -EdgeLocal"
                continue
            }
            Save-ServerExports $server
            $remote += @{ Name = [string]$server.Name; Fqdn = [string]$server.Fqdn }
        }
        Write-Host "Services, ExSetup.exe, registry and IIS on each server (at most $ThrottleLimit at a time, $TimeoutSeconds s each)"
        $pending = @($remote | Where-Object { Test-HostFactsMissing $_.Name })
        if ($pending.Count -gt 0) { Save-HostFacts $pending }
    }
} finally {
    # Written even when the run is interrupted (Ctrl+C): -Resume continues from it.
    Write-Manifest $exchangeServers
}

$counts = @{}
foreach ($result in $script:Results) { $counts[$result.status] = 1 + [int]$counts[$result.status] }
$summary = ($counts.Keys | Sort-Object | ForEach-Object { "$($counts[$_]) $_" }) -join ", "
Write-Host "Results: $summary (manifest.json lists each one)."

if (-not $NoZip) {
    $zip = $OutputFolder.TrimEnd("\") + ".zip"
    if (Test-Path -LiteralPath $zip) { [System.IO.File]::Delete($zip) }
    try {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        [System.IO.Compression.ZipFile]::CreateFromDirectory($OutputFolder, $zip)
        Write-Host "Bundle: $zip"
    } catch {
        Write-Warning "No zip support here (.NET 4.5 is needed); send the folder $OutputFolder instead."
    }
}
$failed = @($script:Results | Where-Object { $_.status -eq "failed" -or $_.status -eq "partial" }).Count
if ($failed -gt 0) {
    Write-Host "$failed result(s) failed or partial: fix the cause (see above) and run again with -Resume to collect only those." -ForegroundColor Yellow
}
Write-Host "Nothing was changed on any server. Next: copy the bundle to the machine with exaudit, run 'exaudit scan <bundle>.zip' and open report.html."
if ($failed -gt 0) { exit 1 }
exit 0
