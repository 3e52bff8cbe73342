<#
.SYNOPSIS
    Collects, read-only, the exports that exaudit's rule packs need from EVERY Exchange server of the organisation.

.DESCRIPTION
    Run it in the Exchange Management Shell (EMS). It changes nothing on any server: it only runs Get-* cmdlets
    and writes files below -OutputFolder on this machine. For each file it records the cmdlet, the server and the
    SHA-256 in manifest.json, then zips the folder.

    Permissions needed:
      * Exchange: the View-Only Organization Management role group (every cmdlet below is a Get-* cmdlet).
      * Windows services: read access on each Exchange server through PowerShell remoting (Invoke-Command,
        port 5985/5986), or WMI/DCOM (Get-WmiObject) as a fallback. A remote EMS session's own Get-Service would
        describe THIS machine, not the Exchange server, so services are always read on the server itself.

    Works from Windows PowerShell 2.0 (Exchange 2010) to 5.1 (Exchange 2013, 2016, 2019, SE): where 2.0 lacks
    ConvertTo-Json, Get-FileHash or Compress-Archive, .NET equivalents are used.

    Exchange 2007 notes: the EMS runs locally (no remote session), Get-ServerComponentState and the back-end
    services (MSExchangePOP3BE, MSExchangeIMAP4BE) do not exist, Get-PopSettings/Get-ImapSettings/
    Get-ExchangeCertificate have no -Server parameter (run the script on each Client Access server), and
    Get-CASMailbox runs only on a server with the Mailbox role.

.EXAMPLE
    .\exaudit-collect.ps1 -OutputFolder C:\Temp\exaudit
#>
param(
    [string]$OutputFolder = (Join-Path (Get-Location) ("exaudit-bundle-" + (Get-Date).ToUniversalTime().ToString("yyyyMMdd-HHmmss"))),
    [switch]$NoZip
)

$ErrorActionPreference = "Continue"
$script:Files = @()
[void][System.IO.Directory]::CreateDirectory($OutputFolder)

function Save-Export {
    # Export-Clixml writes UTF-16LE with a BOM in Windows PowerShell; exaudit reads every flavour.
    param([string]$RelativePath, [string]$Cmdlet, [string]$Server, [scriptblock]$Query)
    $target = Join-Path $OutputFolder $RelativePath
    [void][System.IO.Directory]::CreateDirectory((Split-Path $target -Parent))
    try {
        $objects = & $Query
        $objects | Export-Clixml -Path $target -Depth 3
        $script:Files += @{ path = $RelativePath.Replace("\", "/"); cmdlet = $Cmdlet; server = $Server }
        Write-Host ("  {0,-45} {1} object(s)" -f $RelativePath, @($objects).Count)
    } catch {
        Write-Warning ("{0} failed for {1}: {2}" -f $Cmdlet, $Server, $_.Exception.Message)
    }
}

function Get-Sha256Hex {
    param([string]$Path)
    if (Get-Command Get-FileHash -ErrorAction SilentlyContinue) {
        return (Get-FileHash -Algorithm SHA256 -Path $Path).Hash.ToLowerInvariant()
    }
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
        $pairs = foreach ($key in $Value.Keys) { '"' + $key + '": ' + (ConvertTo-JsonText $Value[$key]) }
        return "{" + ($pairs -join ", ") + "}"
    }
    if ($Value -is [System.Collections.IEnumerable] -and -not ($Value -is [string])) {
        return "[" + ((@($Value) | ForEach-Object { ConvertTo-JsonText $_ }) -join ",`n ") + "]"
    }
    $text = [string]$Value
    $text = $text.Replace("\", "\\").Replace('"', '\"').Replace("`r", "\r").Replace("`n", "\n").Replace("`t", "\t")
    return '"' + $text + '"'
}

Write-Host "exaudit collection (read-only) into $OutputFolder"
$servers = @(Get-ExchangeServer)
Save-Export "Get-ExchangeServer.xml" "Get-ExchangeServer" "" { $servers }

foreach ($server in $servers) {
    $name = [string]$server.Name
    $fqdn = [string]$server.Fqdn
    if ($server.IsEdgeServer) { Write-Host "  $name is an Edge Transport server: skipped"; continue }
    $major = 0
    if ($server.AdminDisplayVersion -and $server.AdminDisplayVersion.Major) { $major = [int]$server.AdminDisplayVersion.Major }
    elseif ([string]$server.AdminDisplayVersion -match "Version (\d+)\.") { $major = [int]$Matches[1] }

    Save-Export "$name\Get-PopSettings.xml" "Get-PopSettings" $name { Get-PopSettings -Server $name }
    Save-Export "$name\Get-ImapSettings.xml" "Get-ImapSettings" $name { Get-ImapSettings -Server $name }
    Save-Export "$name\Get-ExchangeCertificate.xml" "Get-ExchangeCertificate" $name {
        # Select-Object keeps the readable properties that a local export hides in SerializationData.
        Get-ExchangeCertificate -Server $name | Select-Object Thumbprint, Subject, Issuer, CertificateDomains, Services,
            Status, HasPrivateKey, IsSelfSigned, NotBefore, NotAfter, PublicKeySize, RawData, Identity
    }
    Save-Export "$name\Get-ReceiveConnector.xml" "Get-ReceiveConnector" $name { Get-ReceiveConnector -Server $name }
    if ($major -ge 15) {
        Save-Export "$name\Get-ServerComponentState.xml" "Get-ServerComponentState" $name { Get-ServerComponentState -Identity $name }
    }
    # Services are read ON the server: Invoke-Command first, WMI as the fallback.
    Save-Export "$name\Get-Service.xml" "Get-Service" $name {
        try {
            Invoke-Command -ComputerName $fqdn -ErrorAction Stop -ScriptBlock { Get-Service -Name "MSExchange*" }
        } catch {
            Write-Warning "Invoke-Command to $fqdn failed ($($_.Exception.Message)); trying WMI"
            Get-WmiObject -Class Win32_Service -ComputerName $fqdn -Filter "Name LIKE 'MSExchange%'" -ErrorAction Stop
        }
    }
}

Save-Export "Get-CASMailbox.xml" "Get-CASMailbox" "" {
    Get-CASMailbox -ResultSize Unlimited | Select-Object Name, DisplayName, PrimarySmtpAddress, SamAccountName,
        PopEnabled, ImapEnabled, PopUseProtocolDefaults, ImapUseProtocolDefaults, MAPIEnabled, OWAEnabled,
        ActiveSyncEnabled, ServerName, Identity, DistinguishedName, Guid
}
Save-Export "Get-Mailbox.xml" "Get-Mailbox" "" {
    Get-Mailbox -ResultSize Unlimited | Select-Object Name, DisplayName, PrimarySmtpAddress, RecipientTypeDetails,
        Database, ServerName, Identity, DistinguishedName, Guid
}
Save-Export "Get-OrganizationConfig.xml" "Get-OrganizationConfig" "" { Get-OrganizationConfig }
if (Get-Command Get-AuthenticationPolicy -ErrorAction SilentlyContinue) {
    # Exchange 2019 CU2 and later, and Subscription Edition.
    Save-Export "Get-AuthenticationPolicy.xml" "Get-AuthenticationPolicy" "" { Get-AuthenticationPolicy }
    Save-Export "Get-User.xml" "Get-User" "" {
        Get-User -ResultSize Unlimited | Select-Object Name, UserPrincipalName, WindowsEmailAddress,
            RecipientTypeDetails, AuthenticationPolicy, Identity, DistinguishedName, Guid
    }
}

$entries = foreach ($file in $script:Files) {
    @{ path = $file["path"]; cmdlet = $file["cmdlet"]; server = $file["server"]; sha256 = (Get-Sha256Hex (Join-Path $OutputFolder $file["path"])) }
}
$organization = ""
try { $organization = [string](Get-OrganizationConfig).Name } catch { }
# How this session writes dates, and its zone: exaudit reads a text export's dates by them (docs/formats.md).
$culture = @{}
try {
    $format = (Get-Culture).DateTimeFormat
    $culture = @{
        name = [string](Get-Culture).Name
        short_date_pattern = [string]$format.ShortDatePattern
        long_time_pattern = [string]$format.LongTimePattern
        am_designator = [string]$format.AMDesignator
        pm_designator = [string]$format.PMDesignator
        calendar = [string]$format.Calendar.GetType().Name
        time_zone_id = [string][System.TimeZoneInfo]::Local.Id
    }
} catch { Write-Warning "the session's culture could not be recorded: $_" }
$manifest = @{
    culture = $culture
    organization = $organization
    exported_at = (Get-Date).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ")
    powershell_version = [string]$PSVersionTable.PSVersion
    exchange_version = [string]($servers | Select-Object -First 1).AdminDisplayVersion
    files = @($entries)
}
# File.WriteAllText writes UTF-8 without a BOM.
[System.IO.File]::WriteAllText((Join-Path $OutputFolder "manifest.json"), (ConvertTo-JsonText $manifest))

if (-not $NoZip) {
    $zip = $OutputFolder.TrimEnd("\") + ".zip"
    if (Get-Command Compress-Archive -ErrorAction SilentlyContinue) {
        Compress-Archive -Path (Join-Path $OutputFolder "*") -DestinationPath $zip -Force
    } else {
        try {
            Add-Type -AssemblyName System.IO.Compression.FileSystem
            [System.IO.Compression.ZipFile]::CreateFromDirectory($OutputFolder, $zip)
        } catch {
            Write-Warning "No zip support here (.NET 4.5 is needed); send the folder $OutputFolder instead."
            $zip = $null
        }
    }
    if ($zip) { Write-Host "Bundle: $zip" }
}
Write-Host "Done. Nothing was changed on any server."
